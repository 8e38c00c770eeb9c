using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Microsandbox.Agent;
using Microsandbox.Engines.Qemu;
using Microsandbox.Host;
using Microsandbox.State;

namespace Microsandbox.Runtime;

/// <summary>
/// One running QEMU microVM and everything around it (the C# port of upstream's VM runtime): the run row, the VMM
/// process, the guest agent port, the bootstrap frame, the client relay, the watchdog / signal / idle / max-duration
/// policies, and the final bookkeeping (run row terminated with its reason, sandbox row stopped or, when ephemeral,
/// removed, sockets and directories cleaned).
/// </summary>
internal sealed class QemuSandboxHost
{
    private static readonly TimeSpan GracefulShutdown = TimeSpan.FromSeconds(5);
    // Nobody waits on an orphaned sandbox: give its guest a short flush window, then make room.
    private static readonly TimeSpan OrphanShutdown = TimeSpan.FromSeconds(1.5);
    private volatile bool _creatorGone;
    private volatile bool _creatorDetached;
    private volatile bool _discard;
    private MainProcessExit? _mainExit;

    /// <summary>
    /// The signal a client sends to stop a sandbox whose guest holds nothing anyone keeps (ephemeral, no disk volumes,
    /// no directory root): QEMU is killed at once instead of waiting for a graceful guest power-off; the rows end the
    /// same way.
    /// </summary>
    internal const int DiscardSignal = 10; // SIGUSR1
    private readonly SandboxProcessArgs _args;
    private readonly LaunchConfig _launch;
    private readonly RuntimeLog _log;
    private readonly TaskCompletionSource<TerminationReason> _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _vmSocketPath;
    private readonly string _consoleLog;
    private ChildProcess? _qemu;
    private Socket? _listener;
    private StateStore? _store;
    private long _runId = -1;
    private bool _ready;
    private bool _vmmExitedEarly;

    /// <summary>Exit code of a sandbox process whose VMM failed (non-zero exit) before the guest agent was ready.</summary>
    public const int VmmExitedBeforeReadyExitCode = 3;
    private readonly PrestartedVmm? _prestarted;

    public QemuSandboxHost(SandboxProcessArgs args, LaunchConfig launch, RuntimeLog log, PrestartedVmm? prestarted = null)
    {
        _args = args;
        _launch = launch;
        _log = log;
        _prestarted = prestarted;
        _vmSocketPath = QemuCommandLine.VmmSocketPath(launch.AgentSock);
        _consoleLog = QemuCommandLine.ConsoleLogPath(launch.LogDir);
    }

    /// <summary>Hosts the VM until it ends; returns the process exit code.</summary>
    public int Run()
    {
        // Registered first thing: SIGUSR1's default action would end this process without its bookkeeping.
        using var discard = PosixSignalRegistration.Create((PosixSignal)DiscardSignal, ctx =>
        {
            ctx.Cancel = true;
            _discard = true;
            _stop.TrySetResult(TerminationReason.Signal);
        });
        TerminationReason reason = TerminationReason.InternalError;
        int exitCode = 1;
        string? detail = null;
        try
        {
            Prepare();
            StartVmm();
            // The run row is written while the guest boots: the database work overlaps the boot instead of preceding it.
            RecordRun();
            (reason, exitCode) = RunAsync().GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            detail = e is MicrosandboxException ? e.Message : e.ToString();
            _log.Error($"sandbox failed: {detail}");
            reason = TerminationReason.Failed;
        }
        finally
        {
            StopVmm();
            if (_mainExit is { } main)
            {
                // A sandbox with a main process records the main process's end, as a container does.
                exitCode = main.ExitCode ?? exitCode;
                detail ??= $"main process {main}";
            }
            Finish(reason, exitCode, detail);
        }
        if (_vmmExitedEarly) return VmmExitedBeforeReadyExitCode;
        return reason is TerminationReason.Failed or TerminationReason.InternalError ? 1 : 0;
    }

    private void Prepare()
    {
        int fd = _prestarted?.ListenerFd ?? ListenForVmm(_launch.RuntimeDir, _launch.AgentSock);
        _listener = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
    }

    /// <summary>
    /// Creates the sandbox's runtime and socket directories and listens where QEMU's agent chardev connects; returns
    /// the listening fd.
    /// </summary>
    internal static int ListenForVmm(string runtimeDir, string agentSock)
    {
        Directory.CreateDirectory(runtimeDir);
        Directory.CreateDirectory(Path.GetDirectoryName(agentSock)!);
        var vmSocket = QemuCommandLine.VmmSocketPath(agentSock);
        foreach (var stale in new[] { agentSock, vmSocket })
            if (File.Exists(stale)) File.Delete(stale);

        return Libc.ListenUnix(vmSocket, 1);
    }

    private void RecordRun()
    {
        _store = StateStore.OpenAsync(Path.GetDirectoryName(Path.GetDirectoryName(_launch.DbPath)!)!).GetAwaiter().GetResult();
        _runId = _store.InsertRunAsync(_args.SandboxId, Environment.ProcessId).GetAwaiter().GetResult().Id;
    }

    private void StartVmm()
    {
        if (_prestarted is not null)
        {
            _qemu = _prestarted.Process;
            var sinceStart = _prestarted.StartedAt - System.Diagnostics.Process.GetCurrentProcess().StartTime;
            _log.Info($"entering VM (started {sinceStart.TotalMilliseconds:0} ms after this process, before the config was read in full): {string.Join(' ', _prestarted.Argv)}");
            _log.Info($"qemu pid {_qemu.Pid} ({_launch.Qemu!.Accel}){(_launch.Qemu.RestoreState is null ? "" : ", resuming template " + _launch.Qemu.RestoreState)}");
            return;
        }
        var q = _launch.Qemu ?? throw new MicrosandboxException("launch config has no qemu section: this sandbox process only drives QEMU");
        var argv = q.Argv is { Count: > 0 } given ? given : QemuCommandLine.Build(_launch, _args.Vcpus, _args.MemoryMib, _vmSocketPath, _consoleLog);
        _log.Info($"entering VM: {string.Join(' ', argv)}");
        if (!File.Exists(argv[0]))
            throw new MicrosandboxException($"QEMU not found at {argv[0]}: install it with `{Engines.Qemu.QemuAssets.QemuInstallCommand}`");
        _qemu = SpawnVmm(argv, q.RestoreState, environment: q.Environment);
        _log.Info($"qemu pid {_qemu.Pid} ({q.Accel}){(q.RestoreState is null ? "" : ", resuming template " + q.RestoreState)}");
    }

    /// <summary>
    /// Starts QEMU with this process's stderr. Call it from the main thread: setpriv's parent-death signal is bound to
    /// the spawning thread, and the main thread lives exactly as long as this process.
    /// </summary>
    internal static ChildProcess SpawnVmm(IReadOnlyList<string> argv, string? restoreState = null, int output = 2, IReadOnlyDictionary<string, string>? environment = null)
    {
        var overrides = environment?.ToDictionary(e => e.Key, e => (string?)e.Value, StringComparer.Ordinal);
        // setpriv makes QEMU die with this process even on SIGKILL (PR_SET_PDEATHSIG survives exec).
        var program = File.Exists("/usr/bin/setpriv")
            ? new List<string> { "/usr/bin/setpriv", "--pdeathsig", "KILL", "--" }.Concat(argv).ToList()
            : argv.ToList();
        if (restoreState is null) return ChildProcess.Start(program, [], stdout: output, stderr: output, newSession: false, overrides);
        int state = Libc.Check(Libc.open(restoreState, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), $"open {restoreState}");
        try
        {
            return ChildProcess.Start(program, [(state, QemuTemplates.RestoreStateFd)], stdout: output, stderr: output, newSession: false, overrides);
        }
        finally
        {
            Libc.close(state);
        }
    }

    private async Task<(TerminationReason, int)> RunAsync()
    {
        var qemu = _qemu!;
        var qemuExit = qemu.WaitForExitAsync();
        var readyTimeout = TimeSpan.FromSeconds(Math.Max(1, _launch.Qemu!.ReadyTimeoutSecs));
        using var bootCts = new CancellationTokenSource(readyTimeout);

        var acceptTask = _listener!.AcceptAsync(bootCts.Token).AsTask();
        if (await Task.WhenAny(acceptTask, qemuExit).ConfigureAwait(false) == qemuExit)
        {
            // A guest that powers itself off (a refused bootstrap) exits QEMU with 0; a VMM failure does not.
            _vmmExitedEarly = qemuExit.Result != 0;
            throw new MicrosandboxException($"QEMU exited with code {qemuExit.Result} before attaching the agent port; see {Path.Combine(_launch.LogDir, "runtime.log")}");
        }
        Socket guestSocket;
        try
        {
            guestSocket = await acceptTask.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new MicrosandboxException($"QEMU did not attach the agent port within {readyTimeout.TotalSeconds:0} s");
        }
        _listener.Dispose();
        File.Delete(_vmSocketPath);

        var guest = new NetworkStream(guestSocket, ownsSocket: true);
        var bootstrap = new AgentMessage(0, 0, AgentProtocol.Version, MessageType.Bootstrap,
            JsonToCbor.Encode(JsonSerializer.SerializeToElement(_launch.Bootstrap))).ReadPayload<GuestBootstrap>();
        if (_launch.Qemu!.RestoreState is not null)
        {
            // A resumed template has the wall clock and random state of the moment it was saved: give it ours.
            bootstrap = bootstrap with
            {
                UnixTimeNanos = ClockSync.Now().UnixTimeNanos,
                Entropy = RandomNumberGenerator.GetBytes(32),
            };
        }
        await using var relay = new AgentRelay(guest, _launch.AgentSock, new AgentRelayOptions { ReadyTimeout = readyTimeout });
        var readyResume = _launch.Qemu.ReadyResume;
        if (readyResume is not null && _launch.Startup is not null)
        {
            // The saved guest's main process wrote this much before the save: it is this sandbox's history too.
            var templateLog = Path.Combine(readyResume.Template, ExecLog.FileName);
            Directory.CreateDirectory(_launch.LogDir);
            if (File.Exists(templateLog)) File.Copy(templateLog, Path.Combine(_launch.LogDir, ExecLog.FileName), overwrite: true);
            // Before any client can connect: whoever reads the logs once create returned sees where this run began.
            using var log = new ExecLog.Writer(_launch.LogDir);
            log.WriteSystem($"resumed from a ready-state template with the main process running (session {readyResume.MainSessionId})");
        }
        // A guest resumed from a ready-state template was bootstrapped before the save: it only takes its new identity.
        var ready = readyResume is null
            ? relay.WaitReadyAsync(bootstrap, bootCts.Token)
            : relay.WaitResumedAsync(SnapshotResume.Now(bootstrap.Hostname), bootCts.Token);
        var first = await Task.WhenAny(ready, qemuExit).ConfigureAwait(false);
        if (first == qemuExit)
        {
            // A guest that refuses its bootstrap says so and powers off: its own words beat QEMU's exit.
            await Task.WhenAny(ready, Task.Delay(TimeSpan.FromMilliseconds(500))).ConfigureAwait(false);
            if (ready.Exception?.InnerException is AgentProtocolException rejected)
                throw new MicrosandboxException($"the guest agent rejected its bootstrap: {rejected.Message}; guest console: {Tail(_consoleLog)}", rejected);
            // A guest that powers itself off (a refused bootstrap) exits QEMU with 0; a VMM failure does not.
            _vmmExitedEarly = qemuExit.Result != 0;
            throw new MicrosandboxException($"the guest stopped (QEMU exit code {qemuExit.Result}) before its agent was ready; guest console: {Tail(_consoleLog)}");
        }
        try
        {
            await ready.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new MicrosandboxException($"the guest agent did not report ready within {readyTimeout.TotalSeconds:0} s; guest console: {Tail(_consoleLog)}");
        }
        catch (AgentProtocolException e)
        {
            throw new MicrosandboxException($"the guest agent rejected its bootstrap: {e.Message}; guest console: {Tail(_consoleLog)}", e);
        }
        catch (Exception e) when (e is IOException or AgentConnectionException or ObjectDisposedException)
        {
            // The channel broke: if QEMU went away (e.g. it could not load a saved state), that is the VMM's failure.
            if (await Task.WhenAny(qemuExit, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false) != qemuExit) throw;
            // A guest that powers itself off (a refused bootstrap) exits QEMU with 0; a VMM failure does not.
            _vmmExitedEarly = qemuExit.Result != 0;
            throw new MicrosandboxException($"the guest stopped (QEMU exit code {qemuExit.Result}) before its agent was ready ({e.Message}); guest console: {Tail(_consoleLog)}", e);
        }
        relay.Start();
        _ready = true;
        relay.ShutdownRequested += (_, _) => _stop.TrySetResult(TerminationReason.ShutdownRequested);
        _log.Info("guest agent ready; relay listening on " + _launch.AgentSock);

        using var signals = WatchSignals();
        StartParentWatchdog();
        StartPolicies(relay);
        if (_launch.Startup is not null && readyResume is null && _args.ParentWatchFd is not null)
        {
            // A main process that ends at once would stop the sandbox before its creator got to connect, and the
            // creator would see a sandbox that never became ready: it starts once the creator is on the relay.
            await Task.WhenAny(relay.FirstClientConnected, _stop.Task, qemuExit, Task.Delay(readyTimeout)).ConfigureAwait(false);
        }
        await using var main = _launch.Startup is { } startup ? await StartMainProcessAsync(relay, startup, readyResume).ConfigureAwait(false) : null;
        if (main is not null && _launch.Qemu.ReadyTemplate is not null)
            relay.SaveSnapshot = token => SaveReadyStateAsync(relay, main, bootstrap.Hostname, token);
        await using var health = _launch.Startup?.Healthcheck is { } check ? HealthMonitor.Start(_launch.AgentSock, check, _launch.LogDir, _log) : null;

        var ended = await Task.WhenAny(_stop.Task, qemuExit).ConfigureAwait(false);
        if (ended == qemuExit)
        {
            int code = qemuExit.Result;
            if (code > 128)
            {
                // Nobody asked the VM to stop: QEMU was killed (OOM killer, a user, a crash). Say so where clients look.
                _log.Error($"the VM died: QEMU was killed by signal {code - 128} ({Host.Signals.Name(code - 128)})");
                return (TerminationReason.Failed, code);
            }
            // -no-reboot turns a guest kernel panic (panic=-1) into a clean QEMU exit: tell it from a power-off.
            if (PanicLine(_consoleLog) is { } panic)
            {
                _log.Error($"the guest kernel panicked: {panic}");
                return (TerminationReason.Failed, code);
            }
            _log.Info($"VM exited with code {code}");
            return (code == 0 ? TerminationReason.Completed : TerminationReason.Failed, code);
        }

        var reason = await _stop.Task.ConfigureAwait(false);
        if (health is not null) await health.DisposeAsync().ConfigureAwait(false);
        if (main is not null)
        {
            // Ended by itself, or stopped here first (stop signal, grace, SIGKILL) unless nothing is kept anyway.
            if (main.Exited.IsCompleted || !_discard) _mainExit = await main.StopAsync().ConfigureAwait(false);
        }
        if (_discard)
        {
            // Nothing in the guest is kept: no need to let it power off.
            _log.Info("stopping VM: discarded (nothing in the guest is kept)");
            qemu.Kill();
            int killed = await qemuExit.ConfigureAwait(false);
            _log.Info($"VM exited with code {killed}");
            return (reason, killed);
        }
        _log.Info($"stopping VM: {reason}");
        // A client-requested shutdown is already on its way to the guest; otherwise ask for one ourselves.
        await using (var shutdownClient = reason == TerminationReason.ShutdownRequested ? null : await RequestGuestShutdownAsync().ConfigureAwait(false))
        {
            // The client stays connected until the guest is gone: closing it early could drop the queued frame.
            if (await Task.WhenAny(qemuExit, Task.Delay(_creatorGone ? OrphanShutdown : GracefulShutdown)).ConfigureAwait(false) != qemuExit)
            {
                _log.Warn("guest did not power off in time; killing QEMU");
                qemu.Kill();
            }
        }
        int exit = await qemuExit.ConfigureAwait(false);
        _log.Info($"VM exited with code {exit}");
        return (reason, exit);
    }

    /// <summary>
    /// Starts the main process; when it ends (and the VM is not to be kept) the sandbox stops with its outcome:
    /// Completed for exit code 0, Failed otherwise.
    /// </summary>
    private async Task<MainProcess> StartMainProcessAsync(AgentRelay relay, StartupCommand startup, QemuReadyResume? readyResume)
    {
        MainProcess main;
        try
        {
            // Files copied in first can be large trees: a generous bound, not an instant one.
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            // Always the same relay slot, so a ready-state clone's client owns the saved session's id.
            var connection = relay.ConnectInProcess(QemuReadyTemplates.MainProcessSlot);
            main = readyResume is null
                ? await MainProcess.StartAsync(connection, startup, _launch.LogDir, _consoleLog, _log, cts.Token).ConfigureAwait(false)
                : await MainProcess.AdoptAsync(connection, readyResume.MainSessionId, startup, _launch.LogDir, _consoleLog, _log, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AgentConnectionException or IOException or OperationCanceledException or SocketException)
        {
            throw new MicrosandboxException($"could not start the main process {startup.Cmd}: {e.Message}", e);
        }
        _ = main.Exited.ContinueWith(t =>
        {
            if (startup.KeepVm)
            {
                _log.Info("main process ended; the VM is kept running (keep_vm)");
                return;
            }
            _stop.TrySetResult(t.Result.Succeeded ? TerminationReason.Completed : TerminationReason.Failed);
        }, TaskScheduler.Default);
        return main;
    }

    /// <summary>
    /// Saves this sandbox as its shape's ready-state template (a client asked, once its waits held): the guest is
    /// quiesced, the VM paused and its state written, then it continues with a fresh clock and entropy.
    /// </summary>
    private async Task<SnapshotSaved> SaveReadyStateAsync(AgentRelay relay, MainProcess main, string? hostname, CancellationToken cancellationToken)
    {
        if (main.Exited.IsCompleted) throw new MicrosandboxException("the main process has ended: there is no ready state to save");
        var started = DateTime.UtcNow;
        _log.Info("saving the ready-state template: quiescing the guest");
        await relay.QuiesceGuestAsync(() => SnapshotResume.Now(hostname), cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Run(() => QemuReadyTemplates.Save(_launch, main.SessionId, () => _qemu!.ExitCode is null), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MicrosandboxException or IOException or System.Net.Sockets.SocketException)
        {
            _log.Warn($"ready-state template not saved: {e.Message}");
            throw new MicrosandboxException($"saving the ready-state template failed: {e.Message}", e);
        }
        finally
        {
            // Whatever happened (the VM itself was continued by the save), this sandbox goes on running.
            await relay.ResumeGuestAsync(SnapshotResume.Now(hostname), CancellationToken.None).ConfigureAwait(false);
        }
        var paused = (DateTime.UtcNow - started).TotalSeconds;
        _log.Info($"ready-state template saved in {_launch.Qemu!.ReadyTemplate} (guest paused {paused:0.00} s)");
        return new SnapshotSaved(_launch.Qemu.ReadyTemplate!, paused);
    }

    // Through our own relay, exactly as any client would ask.
    private async Task<AgentClient?> RequestGuestShutdownAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var client = await AgentClient.ConnectAsync(_launch.AgentSock, null, cts.Token).ConfigureAwait(false);
            await client.ShutdownAsync(cts.Token).ConfigureAwait(false);
            return client;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or MicrosandboxException)
        {
            _log.Warn($"could not ask the guest to shut down: {e.Message}");
            return null;
        }
    }

    private IDisposable WatchSignals()
    {
        var regs = new List<PosixSignalRegistration>();
        foreach (var sig in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP })
        {
            regs.Add(PosixSignalRegistration.Create(sig, ctx =>
            {
                ctx.Cancel = true;
                _stop.TrySetResult(TerminationReason.Signal);
            }));
        }
        return new Disposables(regs);
    }

    private void StartParentWatchdog()
    {
        if (_args.ParentWatchFd is not int fd) return;
        var thread = new Thread(() =>
        {
            var buf = new byte[1];
            while (true)
            {
                int n;
                unsafe
                {
                    fixed (byte* p = buf) n = (int)Libc.read(fd, p, 1);
                }
                if (n < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR) continue;
                if (n == 1 && buf[0] == 1)
                {
                    _creatorDetached = true;
                    _log.Info("creator detached; the sandbox keeps running without it");
                    return;
                }
                if (n == 1) continue;
                _log.Info("creator process exited");
                _creatorGone = true;
                _stop.TrySetResult(TerminationReason.Signal);
                return;
            }
        })
        { IsBackground = true, Name = "parent-watchdog" };
        thread.Start();
    }

    private void StartPolicies(AgentRelay relay)
    {
        if (_launch.Lifecycle.MaxDurationSecs is ulong max)
        {
            _ = Task.Delay(TimeSpan.FromSeconds(max)).ContinueWith(_ => _stop.TrySetResult(TerminationReason.MaxDurationExceeded), TaskScheduler.Default);
        }
        if (_launch.Lifecycle.IdleTimeoutSecs is ulong idleSecs)
        {
            var idle = TimeSpan.FromSeconds(idleSecs);
            // The idle clock starts when the guest is ready, not when the relay was built before the boot.
            var readyAt = DateTimeOffset.UtcNow;
            _ = Task.Run(async () =>
            {
                while (!_stop.Task.IsCompleted)
                {
                    var lastActivity = relay.LastActivity > readyAt ? relay.LastActivity : readyAt;
                    var quiet = DateTimeOffset.UtcNow - lastActivity;
                    if (quiet >= idle && relay.ActiveExecSessions == 0)
                    {
                        _stop.TrySetResult(TerminationReason.IdleTimeout);
                        return;
                    }
                    var wait = idle - quiet;
                    await Task.Delay(wait > TimeSpan.FromMilliseconds(200) ? wait : TimeSpan.FromMilliseconds(200)).ConfigureAwait(false);
                }
            });
        }
    }

    private void StopVmm()
    {
        if (_qemu is { } q && !q.TryReap())
        {
            q.Kill();
            q.WaitForExitAsync().GetAwaiter().GetResult();
        }
        _listener?.Dispose();
    }

    private void Finish(TerminationReason reason, int exitCode, string? detail)
    {
        foreach (var path in new[] { _launch.AgentSock, _vmSocketPath })
        {
            try { File.Delete(path); } catch (IOException) { }
        }
        if (_store is null) return;
        try
        {
            // A main process that ended (by itself or stopped) while its creator still holds the handle: the creator
            // reads how it ended (exit code, logs) and removes the ephemeral sandbox itself, as a stopped container
            // stays until it is removed. A discard has nobody reading.
            bool creatorReads = _mainExit is not null && !_discard && _args.ParentWatchFd is not null && !_creatorGone && !_creatorDetached;
            if (_runId >= 0)
                _store.EndRunAsync(_runId, new RunTermination(reason, exitCode, null, detail), SandboxStatus.Stopped, removeIfEphemeral: !creatorReads)
                    .GetAwaiter().GetResult();
            // After a failed boot the logs stay for the launcher to read; it removes the directory itself.
            if (_ready && _store.GetSandboxByIdAsync(_args.SandboxId).GetAwaiter().GetResult() is null)
            {
                TryDeleteDirectory(Path.Combine(_launch.SandboxesDir, _args.Name));
                _log.Info("ephemeral sandbox removed");
            }
            _log.Info($"--- sandbox stopped ({reason}) ---");
        }
        catch (Exception e)
        {
            _log.Error($"could not record the end of the run: {e.Message}");
        }
        finally
        {
            _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>The kernel's panic line among the console's last 64 KiB, or null.</summary>
    internal static string? PanicLine(string consoleLog)
    {
        try
        {
            return LogTail.Lines(consoleLog).LastOrDefault(l => l.Contains("Kernel panic - not syncing", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The last lines of a log, for error messages that must carry the guest's own words.</summary>
    internal static string Tail(string path, int lines = 15)
    {
        try
        {
            if (!File.Exists(path)) return "(no console output)";
            var all = LogTail.Lines(path);
            var text = string.Join(" | ", all.Skip(Math.Max(0, all.Count - lines)));
            return text.Length == 0 ? "(no console output)" : text;
        }
        catch (IOException)
        {
            return "(console log unreadable)";
        }
    }

    private sealed class Disposables(IEnumerable<IDisposable> items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var i in items) i.Dispose();
        }
    }
}
