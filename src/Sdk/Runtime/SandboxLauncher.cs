using Microsandbox.Agent;
using Microsandbox.Config;
using Microsandbox.Engines;
using Microsandbox.Host;
using Microsandbox.Spawn;
using Microsandbox.Spec;
using Microsandbox.State;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Runtime;

/// <summary>
/// The create path shared by every front end: pick the engine, write the sandbox row, plan and spawn the sandbox
/// process, connect to its relay, apply patches. Any failure on the way leaves nothing running and no row behind.
/// </summary>
internal static class SandboxLauncher
{
    public static async Task<Sandbox> LaunchAsync(SandboxConfig config, SandboxOptions options, CancellationToken cancellationToken)
    {
        options.Validate();
        var attempt = new LaunchAttempt(AllowRestore: options.BootFromSnapshot);
        try
        {
            return await LaunchAsync(config, options, attempt, cancellationToken).ConfigureAwait(false);
        }
        catch (SandboxStartException e) when (attempt.RestoredFromReady is { } readyKey && e.VmmExitedBeforeReady)
        {
            // As below, for a ready-state template: forget it; this sandbox boots cold and saves a new one.
            var logger = options.LoggerFactory.CreateLogger("Microsandbox.Sandbox");
            logger.LogWarning("ready-state template {Key} could not be resumed ({Reason}); dropping it and booting cold", readyKey, e.Message);
            Engines.Qemu.QemuReadyTemplates.Delete(options.Home, readyKey);
            if (!config.RestartExisting) await RemoveStoppedAsync(options.Home, config.Spec.Name, cancellationToken).ConfigureAwait(false);
            return await LaunchAsync(config, options, new LaunchAttempt(AllowRestore: options.BootFromSnapshot, AllowReadyRestore: false), cancellationToken).ConfigureAwait(false);
        }
        catch (SandboxStartException e) when (attempt.RestoredFrom is { } key && e.VmmExitedBeforeReady)
        {
            // QEMU could not resume the template (another QEMU build, changed assets): forget it and boot the
            // ordinary way. Any other failure (a rejected bootstrap, a timeout) is the sandbox's own and is final.
            var logger = options.LoggerFactory.CreateLogger("Microsandbox.Sandbox");
            logger.LogWarning("snapshot template {Key} could not be resumed ({Reason}); dropping it and booting cold", key, e.Message);
            Engines.Qemu.QemuTemplates.Delete(options.Home, key);
            // A kept failed sandbox (KeepFailedSandboxes) would otherwise block the retry under the same name; a
            // restarted one is the user's and stays.
            if (!config.RestartExisting) await RemoveStoppedAsync(options.Home, config.Spec.Name, cancellationToken).ConfigureAwait(false);
            return await LaunchAsync(config, options, new LaunchAttempt(AllowRestore: false), cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed record LaunchAttempt(bool AllowRestore, bool AllowReadyRestore = true)
    {
        public string? RestoredFrom { get; set; }

        public string? RestoredFromReady { get; set; }
    }

    private static async Task<Sandbox> LaunchAsync(SandboxConfig config, SandboxOptions options, LaunchAttempt attempt, CancellationToken cancellationToken)
    {
        var logger = options.LoggerFactory.CreateLogger("Microsandbox.Sandbox");
        var home = options.Home;
        var name = config.Spec.Name;
        var engine = await EngineSelector.SelectAsync(options, logger, cancellationToken).ConfigureAwait(false);
        (config, var rootDisk) = await Images.OciImages.PrepareWithRootDiskAsync(config, options, cancellationToken).ConfigureAwait(false);
        var startup = StartupCommand.For(config);
        foreach (var file in config.Files)
        {
            if (file.HostPath is { } host && !File.Exists(host) && !Directory.Exists(host))
                throw new InvalidConfigException($"copy-in: host path '{host}' for '{file.GuestPath}' does not exist");
        }
        if (startup is not null && engine.Engine is Engines.Krun.KrunEngine && StartupCommand.KrunRefusal(startup, config.Files.Count) is { } refusal)
            throw new InvalidConfigException(refusal);
        var spec = engine.Engine.ResolveImage(config.WithDefaults().Spec, rootDisk);
        spec = AssignHostPorts(spec);
        WaitRunner.Validate(config, spec);

        logger.LogInformation("creating sandbox {Name} ({Engine}: {Reason})", name, engine.Engine.Name, engine.Reason);
        SandboxRecord record;
        EnsuredNamedVolumes ensured;
        IReadOnlyDictionary<string, ResolvedNamedVolume> namedVolumes;
        await using (var store = await StateStore.OpenAsync(home.Root, cancellationToken).ConfigureAwait(false))
        {
            await store.SweepStaleAsync(cancellationToken).ConfigureAwait(false);
            SandboxRecord? existing = null;
            if (config.RestartExisting)
            {
                existing = await store.GetSandboxAsync(name, cancellationToken).ConfigureAwait(false)
                    ?? throw new MicrosandboxException($"no sandbox named '{name}'");
                if (LifecycleLock.IsHeld(home, name)) throw new MicrosandboxException($"sandbox '{name}' is already running");
            }
            else
            {
                await ClearExistingAsync(store, home, name, config.ReplaceExisting, logger, cancellationToken).ConfigureAwait(false);
            }
            ensured = await NamedVolumes.EnsureAsync(store, home, spec, cancellationToken).ConfigureAwait(false);
            try
            {
                namedVolumes = await NamedVolumes.ResolveAsync(store, home, spec, cancellationToken).ConfigureAwait(false);
                if (existing is not null)
                {
                    await store.UpdateSandboxStatusAsync(existing.Id, SandboxStatus.Running, cancellationToken).ConfigureAwait(false);
                    record = existing;
                }
                else
                {
                    record = await store.InsertSandboxAsync(name, SpecJson.Serialize(config.Spec), SandboxStatus.Running, cancellationToken).ConfigureAwait(false);
                }
            }
            catch
            {
                await NamedVolumes.RollbackAsync(store, ensured.Created).ConfigureAwait(false);
                ensured.Dispose();
                throw;
            }
        }

        SpawnedSandbox? process = null;
        AgentClient? agent = null;
        using (ensured)
        {
            try
            {
                var launch = engine.Engine.Complete(LaunchPlanner.Plan(spec, (int)record.Id, home, namedVolumes), spec);
                if (launch.Qemu is { } q) launch = launch with { Qemu = q with { ReadyTimeoutSecs = (ulong)Math.Ceiling(options.BootTimeout.TotalSeconds) } };
                // A snapshot template is the booted guest before any main process: the cold launch has none.
                var coldLaunch = launch;
                var files = StageFiles(config.Files, home.RuntimeDirectory(name));
                launch = launch with { Startup = startup is null ? null : startup with { Files = files } };
                var readyLaunch = config.ReadyStateSnapshot ? ReadyStateLaunch(launch, startup, config.ReadyStateSnapshotWhenSupported, logger, name) : null;
                if (readyLaunch is not null)
                {
                    var readyKey = Engines.Qemu.QemuReadyTemplates.Key(readyLaunch, config.Waits.Select(w => w.Description));
                    if (attempt.AllowReadyRestore && Engines.Qemu.QemuReadyTemplates.Find(home, readyKey) is { } template)
                    {
                        launch = Engines.Qemu.QemuReadyTemplates.AsClone(readyLaunch, template);
                        attempt.RestoredFromReady = readyKey;
                        logger.LogInformation("resuming {Name} from ready-state template {Key} (main process running, waits held when saved)", name, readyKey);
                    }
                    else
                    {
                        // No template yet: this sandbox saves one once its waits hold (its monitor is no part of the shape).
                        launch = Engines.Qemu.QemuReadyTemplates.AsSaver(readyLaunch, Path.Combine(Engines.Qemu.QemuReadyTemplates.Directory(home), readyKey));
                    }
                }
                if (attempt.AllowRestore && launch.Qemu is { ReadyResume: null })
                {
                    var key = Engines.Qemu.QemuTemplates.Key(launch);
                    if (Engines.Qemu.QemuTemplates.Find(home, key) is { } state)
                    {
                        launch = Engines.Qemu.QemuTemplates.AsClone(launch, state);
                        Engines.Qemu.QemuTemplates.Touch(state);
                        attempt.RestoredFrom = key;
                        logger.LogInformation("resuming {Name} from snapshot template {Key}", name, key);
                    }
                }
                // The sandbox process inherits these locks and holds them for its life; our copies go when spawn returns.
                using var disks = DiskLocks.Acquire(spec, namedVolumes, rootReadonly: launch.Qemu is not null || launch.Rootfs.DiskReadonly);
                var request = new SandboxLaunchRequest(engine.Engine.SandboxProcessProgram, home, name, (int)record.Id,
                    spec.Resources.Cpus, (int)spec.Resources.MemoryMib, launch, SpawnMode.Attached, LogLevelFlag(spec.Runtime.LogLevel))
                {
                    DiskLocks = disks,
                };
                logger.LogInformation("booting {Name}: {Cpus} vCPU, {Memory} MiB", name, spec.Resources.Cpus, spec.Resources.MemoryMib);
                process = await SandboxSpawner.SpawnAsync(request, logger, cancellationToken).ConfigureAwait(false);
                agent = await ConnectAsync(process, engine.Engine, launch.AgentSock, options.BootTimeout + TimeSpan.FromSeconds(5), home, name, cancellationToken).ConfigureAwait(false);
                logger.LogInformation("sandbox {Name} is ready", name);
                if (attempt.AllowRestore && attempt.RestoredFrom is null && coldLaunch.Qemu is not null)
                    _ = Engines.Qemu.QemuTemplates.EnsureInBackground(home, coldLaunch, logger);
                await PatchApplier.ApplyAsync(agent, spec.Patches, cancellationToken).ConfigureAwait(false);
                // Without a main process nobody copied them yet: before the handle is returned.
                if (startup is null)
                {
                    foreach (var f in files)
                        await GuestCopy.CopyInAsync(agent, f.Src, f.Dst, f.Mode, f.Uid, f.Gid, cancellationToken).ConfigureAwait(false);
                }
                var sandbox = Sandbox.Attach(config.Spec, record.Id, engine, options, logger, process, agent, spec.Network.Ports, startup);
                MainProcessMarker.Write(home, name, keep: startup is not null && !config.Spec.Lifecycle.Ephemeral);
                if (launch.Qemu?.ReadyResume is null)
                    await ReadyAsync(sandbox, config, logger, cancellationToken).ConfigureAwait(false);
                else if (config.Waits.Count > 0)
                    // The saved guest is the state in which they held: memory, sockets and all. Running them again
                    // would only cost their round trips (a pg_isready exec is a third of a second under emulation).
                    logger.LogInformation("{Name}: {Count} wait(s) held when the ready-state template was saved; not run again", name, config.Waits.Count);
                if (launch.Qemu?.ReadyTemplate is not null) await SaveReadyStateAsync(agent, name, logger, cancellationToken).ConfigureAwait(false);
                return sandbox;
            }
            catch
            {
                if (agent is not null) await agent.DisposeAsync().ConfigureAwait(false);
                if (process is not null)
                {
                    process.Signal(Libc.SIGKILL);
                    await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                    process.Dispose();
                }
                await MarkKilledAsync(home, record.Id, CancellationToken.None).ConfigureAwait(false);
                await LifecycleLock.WaitReleasedAsync(home, name, CancellationToken.None).ConfigureAwait(false);
                // A restart that fails leaves the stopped sandbox as it was: it is the user's, not this attempt's.
                if (!options.KeepFailedSandboxes && !config.RestartExisting) await RemoveStoppedAsync(home, name, CancellationToken.None).ConfigureAwait(false);
                await using (var store = await StateStore.OpenAsync(home.Root, CancellationToken.None).ConfigureAwait(false))
                    await NamedVolumes.RollbackAsync(store, ensured.Created).ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>
    /// The launch of a sandbox that takes part in ready-state templates, or the reason it cannot: its guest must hold
    /// all of its writable state (root disk read-only under a RAM upper; no host shares or volumes).
    /// </summary>
    private static LaunchConfig? ReadyStateLaunch(LaunchConfig launch, StartupCommand? startup, bool whenSupported, ILogger logger, string name)
    {
        try
        {
            return ReadyStateLaunch(launch, startup);
        }
        catch (InvalidConfigException e) when (whenSupported)
        {
            logger.LogInformation("no ready-state template for {Name}, it boots cold: {Reason}", name, e.Message);
            return null;
        }
    }

    private static LaunchConfig ReadyStateLaunch(LaunchConfig launch, StartupCommand? startup)
    {
        const string Field = "ready_state_snapshot";
        if (launch.Qemu is null)
            throw new InvalidConfigException($"{Field}: needs the QEMU engine (libkrun cannot save a running guest)");
        if (startup is null)
            throw new InvalidConfigException($"{Field}: needs a main process (SandboxBuilder.MainProcess, or an image with an entrypoint or command)");
        if (launch.Mounts.Count > 0 || launch.Disks.Count > 0 || launch.Rootfs.Path is not null || launch.Rootfs.Upper is not null)
            throw new InvalidConfigException($"{Field}: the sandbox has host mounts, volumes or a host directory root, whose state lives outside the guest and cannot be saved with it (ReadyStateSnapshot(false) turns ready-state templates off)");
        var bootstrap = launch.Bootstrap.DeepClone().AsObject();
        if (bootstrap["block_root"] is System.Text.Json.Nodes.JsonObject root)
        {
            if (root["kind"]?.GetValue<string>() != "disk-image")
                throw new InvalidConfigException($"{Field}: a {root["kind"]} root cannot keep its writes in guest memory (ReadyStateSnapshot(false) turns ready-state templates off)");
            root["upper"] = new System.Text.Json.Nodes.JsonObject { ["kind"] = "tmpfs" };
        }
        return launch with { Bootstrap = bootstrap };
    }

    /// <summary>Asks the sandbox process to save the ready-state template now that the waits hold; a failure leaves the sandbox running.</summary>
    private static async Task SaveReadyStateAsync(AgentClient agent, string name, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var saved = (await agent.RequestAsync(new SnapshotSave(), cancellationToken).ConfigureAwait(false)).ReadPayload<SnapshotSaved>();
            logger.LogInformation("ready-state template of {Name} saved in {Template} (guest paused {Seconds:0.00} s)", name, saved.Template, saved.PausedSeconds);
        }
        catch (AgentProtocolException e)
        {
            logger.LogWarning("ready-state template of {Name} not saved: {Reason}", name, e.Message);
        }
    }

    /// <summary>Host paths for the files to copy in: given paths as they are, bytes written under the runtime directory.</summary>
    private static List<StartupFile> StageFiles(IReadOnlyList<GuestFile> files, string runtimeDir)
    {
        var staged = new List<StartupFile>(files.Count);
        for (int i = 0; i < files.Count; i++)
        {
            var f = files[i];
            var src = f.HostPath;
            if (src is null)
            {
                var dir = Path.Combine(runtimeDir, "copy-in");
                Directory.CreateDirectory(dir);
                src = Path.Combine(dir, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                File.WriteAllBytes(src, f.Content!.Value.ToArray());
            }
            staged.Add(new StartupFile(src, f.GuestPath, f.Mode ?? (f.HostPath is null ? 0x1a4u : null), f.Uid, f.Gid));
        }
        return staged;
    }

    /// <summary>
    /// Runs the readiness waits. A failed wait stops the handle's own work; the caller tears the sandbox down as after
    /// any failed create.
    /// </summary>
    private static async Task ReadyAsync(Sandbox sandbox, SandboxConfig config, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await WaitRunner.RunAsync(sandbox, config.Waits, logger, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            sandbox.AbandonAfterFailedCreate();
            throw;
        }
    }

    private static async Task<AgentClient> ConnectAsync(SpawnedSandbox process, ISandboxEngine engine, string socket, TimeSpan timeout, MicrosandboxHome home, string name, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var exited = process.WaitForExitAsync(cts.Token);
        while (true)
        {
            if (File.Exists(socket))
            {
                try
                {
                    return await AgentClient.ConnectAsync(socket, null, cts.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is AgentConnectionException or IOException or System.Net.Sockets.SocketException && !cts.IsCancellationRequested)
                {
                    // The relay appears slightly before it accepts; retry.
                }
            }
            if (exited.IsCompleted)
                throw new SandboxStartException(name, engine is Engines.Krun.KrunEngine
                    ? Engines.Krun.KrunDiagnostics.Explain(home.LogDirectory(name), exited.Result, await KvmProbe.ForAsync(null, null, cancellationToken).ConfigureAwait(false))
                    : $"the sandbox process exited (code {exited.Result}) before its guest was ready: {Diagnostics(home, name)}")
                {
                    VmmExitedBeforeReady = exited.Result == QemuSandboxHost.VmmExitedBeforeReadyExitCode,
                };
            try
            {
                // The relay socket appears the moment the guest is ready; a short poll is a stat() per tick, and
                // every millisecond slept here after that moment is boot time the caller pays.
                await Task.Delay(5, cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new SandboxStartException(name, $"the guest agent did not become ready within {timeout.TotalSeconds:0} s: {Diagnostics(home, name)}");
            }
        }
    }

    private static string Diagnostics(MicrosandboxHome home, string name)
    {
        var runtime = Path.Combine(home.LogDirectory(name), "runtime.log");
        var console = Path.Combine(home.LogDirectory(name), "console.log");
        return $"runtime.log: {QemuSandboxHost.Tail(runtime, 6)}; guest console: {QemuSandboxHost.Tail(console, 10)}";
    }

    private static async Task ClearExistingAsync(StateStore store, MicrosandboxHome home, string name, bool replace, ILogger logger, CancellationToken cancellationToken)
    {
        var existing = await store.GetSandboxAsync(name, cancellationToken).ConfigureAwait(false);
        if (existing is null) return;
        bool live = LifecycleLock.IsHeld(home, name);
        if (!replace)
        {
            throw new MicrosandboxException(live
                ? $"a sandbox named '{name}' is already running; stop it first or build with .Replace()"
                : $"a sandbox named '{name}' already exists ({existing.Status}); remove it (microsandbox rm {name}) or build with .Replace()");
        }
        logger.LogInformation("replacing existing sandbox {Name}", name);
        if (live) await StopByNameAsync(store, home, name, cancellationToken).ConfigureAwait(false);
        await store.DeleteSandboxAsync(name, cancellationToken).ConfigureAwait(false);
        DeleteDirectory(home.SandboxDirectory(name));
    }

    /// <summary>Stops a sandbox that some other handle (or process) owns: SIGTERM to its run's pid, then SIGKILL.</summary>
    public static async Task StopByNameAsync(StateStore store, MicrosandboxHome home, string name, CancellationToken cancellationToken)
    {
        var sandbox = await store.GetSandboxAsync(name, cancellationToken).ConfigureAwait(false);
        if (sandbox is null) return;
        var run = await store.GetActiveRunAsync(sandbox.Id, cancellationToken).ConfigureAwait(false);
        if (run?.Pid is not int pid || !ProcessProbe.IsAlive(pid)) return;
        Libc.kill(pid, Libc.SIGTERM);
        for (int i = 0; i < 200 && LifecycleLock.IsHeld(home, name); i++) await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        if (LifecycleLock.IsHeld(home, name))
        {
            Libc.kill(pid, Libc.SIGKILL);
            await LifecycleLock.WaitReleasedAsync(home, name, cancellationToken).ConfigureAwait(false);
            await MarkKilledAsync(home, sandbox.Id, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Records a sandbox whose process was killed (it could not write its own end): run terminated by signal, sandbox stopped.</summary>
    public static async Task MarkKilledAsync(MicrosandboxHome home, long sandboxId, CancellationToken cancellationToken)
    {
        await using var store = await StateStore.OpenAsync(home.Root, cancellationToken).ConfigureAwait(false);
        var run = await store.GetActiveRunAsync(sandboxId, cancellationToken).ConfigureAwait(false);
        if (run is not null)
            await store.EndRunAsync(run.Id, new RunTermination(TerminationReason.Signal, null, 9, "killed"), SandboxStatus.Stopped, removeIfEphemeral: false, cancellationToken).ConfigureAwait(false);
        else
            await store.UpdateSandboxStatusAsync(sandboxId, SandboxStatus.Stopped, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a stopped sandbox's row and directory; nothing happens when it is already gone.</summary>
    public static async Task RemoveStoppedAsync(MicrosandboxHome home, string name, CancellationToken cancellationToken)
    {
        if (LifecycleLock.IsHeld(home, name))
            throw new MicrosandboxException($"sandbox '{name}' is still running; stop it before removing it");
        await using (var store = await StateStore.OpenAsync(home.Root, cancellationToken).ConfigureAwait(false))
            await store.DeleteSandboxAsync(name, cancellationToken).ConfigureAwait(false);
        DeleteDirectory(home.SandboxDirectory(name));
    }

    private static void DeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException) { }
    }

    private static SandboxSpec AssignHostPorts(SandboxSpec spec)
    {
        foreach (var p in spec.Network.Ports.Where(p => p.HostPort != 0)) RefuseTakenPort(p);
        if (spec.Network.Ports.All(p => p.HostPort != 0)) return spec;
        var ports = spec.Network.Ports.Select(p => p.HostPort != 0 ? p : p with { HostPort = (ushort)Sandbox.FreeTcpPort(p.HostBind) }).ToList();
        return spec with { Network = spec.Network with { Ports = ports } };
    }

    /// <summary>
    /// A published host port something else already listens on fails here with its name, before anything boots,
    /// instead of as a VMM start failure (the VMM's own refusal remains for a port taken in between).
    /// </summary>
    private static void RefuseTakenPort(PublishedPortSpec port)
    {
        var address = System.Net.IPAddress.Parse(port.HostBind);
        try
        {
            if (port.Protocol == PortProtocol.Udp)
            {
                using var udp = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(address, port.HostPort));
            }
            else
            {
                var tcp = new System.Net.Sockets.TcpListener(address, port.HostPort);
                tcp.Start();
                tcp.Stop();
            }
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode is System.Net.Sockets.SocketError.AddressAlreadyInUse or System.Net.Sockets.SocketError.AccessDenied)
        {
            var what = e.SocketErrorCode == System.Net.Sockets.SocketError.AccessDenied ? "may not be bound by this user" : "is already in use";
            throw new InvalidConfigException($"network.ports: host port {port.HostBind}:{port.HostPort}/{port.Protocol.ToString().ToLowerInvariant()} (for guest port {port.GuestPort}) {what}");
        }
    }

    private static string? LogLevelFlag(SandboxLogLevel? level) => level switch
    {
        null => null,
        SandboxLogLevel l => "--" + l.ToString().ToLowerInvariant(),
    };
}
