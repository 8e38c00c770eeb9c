using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsandbox.Host;
using Microsandbox.Runtime;
using Microsandbox.State;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Engines.Qemu;

/// <summary>
/// Snapshot templates for the QEMU engine: a guest booted once and saved at the moment its agent waits for
/// <c>core.bootstrap</c> (nothing sandbox-specific has happened yet), restored by later sandboxes of the same shape
/// with <c>-incoming</c> in a fraction of a boot. Every clone then receives its own bootstrap (hostname, mounts, env,
/// plus the current time and fresh entropy, which it cannot inherit from the template).
/// <para>
/// The shape is the QEMU argv with what may differ between template and clone taken out (the sandbox's own socket
/// and console paths, 9p host directories, host-forwarded ports), plus the identity of QEMU, kernel and initramfs.
/// Templates live in <c>cache/qemu-templates/&lt;key&gt;/state</c> under the state directory.
/// </para>
/// </summary>
internal static class QemuTemplates
{
    private const string StateFile = "state";
    private static readonly Lock s_gate = new();
    private static readonly Dictionary<string, Task> s_building = [];
    // Shapes whose build failed recently: retried only after a pause, not on every cold boot.
    private static readonly Dictionary<string, DateTime> s_failedAt = [];
    private static readonly TimeSpan RetryFailedBuildAfter = TimeSpan.FromMinutes(10);

    /// <summary>Where a home keeps its templates.</summary>
    public static string Directory(MicrosandboxHome home) => Path.Combine(home.Root, "cache", "qemu-templates");

    /// <summary>The template key of a completed QEMU launch.</summary>
    public static string Key(LaunchConfig launch) => Key(launch, HostCpu.Identity);

    /// <summary>The key, with the host CPU's identity from <paramref name="hostCpu"/> (asked only for <c>-cpu host</c> guests).</summary>
    internal static string Key(LaunchConfig launch, Func<string> hostCpu)
    {
        var q = launch.Qemu ?? throw new ArgumentException("not a QEMU launch", nameof(launch));
        var vmSocket = QemuCommandLine.Escape(QemuCommandLine.VmmSocketPath(launch.AgentSock));
        var console = QemuCommandLine.Escape(QemuCommandLine.ConsoleLogPath(launch.LogDir));
        var text = new StringBuilder();
        foreach (var arg in WithoutMonitor(q.Argv))
        {
            var normalised = arg.Replace(vmSocket, "<vm.sock>", StringComparison.Ordinal).Replace(console, "<console>", StringComparison.Ordinal);
            if (normalised.StartsWith("local,", StringComparison.Ordinal)) normalised = WithoutOption(normalised, "path");
            if (normalised.StartsWith("user,", StringComparison.Ordinal)) normalised = WithoutOption(normalised, "hostfwd");
            text.Append(normalised).Append('\n');
            // A guest keeps the capacity it saw: a disk resized in place is another shape.
            if (DriveFile(arg) is { } drive) text.Append("size ").Append(new FileInfo(drive) is { Exists: true } d ? d.Length : -1).Append('\n');
        }
        // Under KVM the guest sees the host's own CPU model and features (-cpu host); TCG's model is QEMU's alone.
        if (q.Argv.Zip(q.Argv.Skip(1)).Any(p => p is ("-cpu", "host"))) text.Append("host-cpu ").Append(hostCpu()).Append('\n');
        foreach (var file in new[] { q.Binary, q.Kernel, q.Initrd })
        {
            var info = new FileInfo(file);
            text.Append(file).Append(' ').Append(info.Exists ? info.Length : -1).Append(' ')
                .Append(info.Exists ? info.LastWriteTimeUtc.Ticks : 0).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];
    }

    /// <summary>How many templates a state directory keeps; the least recently used beyond this are deleted.</summary>
    public const int MaxTemplates = 8;

    /// <summary>The saved state for <paramref name="key"/>, or null when there is none yet.</summary>
    public static string? Find(MicrosandboxHome home, string key)
    {
        var state = Path.Combine(Directory(home), key, StateFile);
        return File.Exists(state) ? state : null;
    }

    /// <summary>Marks a template as used now (its directory's time orders <see cref="Prune(MicrosandboxHome, int)"/>).</summary>
    public static void Touch(string state)
    {
        try { System.IO.Directory.SetLastWriteTimeUtc(Path.GetDirectoryName(state)!, DateTime.UtcNow); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Deletes the least recently used templates beyond <paramref name="keep"/> (each is tens of MiB). A clone that
    /// is starting from one keeps working: QEMU has the state file open, and unlinking it does not take it away.
    /// </summary>
    public static void Prune(MicrosandboxHome home, int keep = MaxTemplates) => Prune(Directory(home), keep);

    /// <summary>
    /// <see cref="Prune(MicrosandboxHome, int)"/> for any directory of templates (<c>KEY/state</c> each, staged as
    /// <c>*.tmp</c>): the ready-state templates are kept the same way.
    /// </summary>
    internal static void Prune(string root, int keep)
    {
        if (!System.IO.Directory.Exists(root)) return;
        // Staging left by a builder that was killed: nobody finishes it.
        foreach (var stale in new DirectoryInfo(root).GetDirectories("*.tmp").Where(d => d.LastWriteTimeUtc < DateTime.UtcNow.AddHours(-1)))
        {
            try { stale.Delete(recursive: true); } catch (IOException) { }
        }
        var saved = new DirectoryInfo(root).GetDirectories()
            .Where(d => !d.Name.EndsWith(".tmp", StringComparison.Ordinal) && File.Exists(Path.Combine(d.FullName, StateFile)))
            .OrderByDescending(d => d.LastWriteTimeUtc)
            .ToList();
        foreach (var old in saved.Skip(keep))
        {
            try
            {
                old.Delete(recursive: true);
                File.Delete(old.FullName + ".lock");
            }
            catch (IOException) { }
        }
    }

    /// <summary>Forgets a template (e.g. one this QEMU can no longer restore).</summary>
    public static void Delete(MicrosandboxHome home, string key) => DeleteDirectory(Path.Combine(Directory(home), key));

    /// <summary>Removes a template's directory, if it is still there.</summary>
    internal static void DeleteDirectory(string template)
    {
        try { System.IO.Directory.Delete(template, recursive: true); }
        catch (DirectoryNotFoundException) { }
        catch (IOException) { }
    }

    /// <summary>
    /// The launch turned into a clone of <paramref name="state"/>: the same argv without the boot payload, plus
    /// <c>-incoming fd:3</c>.
    /// </summary>
    public static LaunchConfig AsClone(LaunchConfig launch, string state)
    {
        var q = launch.Qemu!;
        return launch with { Qemu = q with { Argv = [.. WithoutBootPayload(q.Argv), "-incoming", $"fd:{RestoreStateFd}"], RestoreState = state } };
    }

    // Kernel, initramfs and command line only fill guest RAM, which the incoming state overwrites: loading them (a
    // 60+ MiB vmlinux) cost every clone ≈ 50 ms of CPU for nothing. They stay in the key, which names the files.
    private static IEnumerable<string> WithoutBootPayload(IReadOnlyList<string> argv)
    {
        for (int i = 0; i < argv.Count; i++)
        {
            if (argv[i] is "-kernel" or "-initrd" or "-append" && i + 1 < argv.Count) i++;
            else yield return argv[i];
        }
    }

    // A monitor socket is the sandbox's own and no part of the guest: it never changes the shape.
    private static IEnumerable<string> WithoutMonitor(IReadOnlyList<string> argv)
    {
        for (int i = 0; i < argv.Count; i++)
        {
            if (argv[i] == "-qmp" && i + 1 < argv.Count) i++;
            else yield return argv[i];
        }
    }

    /// <summary>The fd number QEMU reads a restored state from.</summary>
    public const int RestoreStateFd = 3;

    /// <summary>
    /// Builds the template for <paramref name="launch"/>'s shape in the background, unless it exists or is being
    /// built; returns the build (completed when there is nothing to do). One boot's worth of work, done once per shape.
    /// </summary>
    public static Task EnsureInBackground(MicrosandboxHome home, LaunchConfig launch, ILogger logger)
    {
        var key = Key(launch);
        lock (s_gate)
        {
            if (Find(home, key) is not null) return Task.CompletedTask;
            var id = home.Root + "\n" + key;
            if (s_building.TryGetValue(id, out var running)) return running;
            if (s_failedAt.TryGetValue(id, out var failed) && DateTime.UtcNow - failed < RetryFailedBuildAfter) return Task.CompletedTask;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // A dedicated thread: QEMU's parent-death signal is bound to the thread that starts it.
            var thread = new Thread(() =>
            {
                try
                {
                    Build(home, key, launch, logger);
                }
                catch (Exception e)
                {
                    lock (s_gate) s_failedAt[id] = DateTime.UtcNow;
                    logger.LogWarning("snapshot template {Key} was not built: {Reason}", key, e.Message);
                }
                finally
                {
                    lock (s_gate) s_building.Remove(id);
                    done.SetResult();
                }
            })
            { IsBackground = true, Name = "msb-template-" + key[..8] };
            s_building[id] = done.Task;
            thread.Start();
            return done.Task;
        }
    }

    /// <summary>Completes when every template build this process has started has ended (saved or failed).</summary>
    public static Task WhenBuildsDoneAsync()
    {
        lock (s_gate) return s_building.Count == 0 ? Task.CompletedTask : Task.WhenAll(s_building.Values);
    }

    private static void Build(MicrosandboxHome home, string key, LaunchConfig launch, ILogger logger)
    {
        var root = Directory(home);
        System.IO.Directory.CreateDirectory(root);
        // Another process may be building the same shape: one builder per key, the others just skip.
        using var buildLock = FileLock.TryAcquire(Path.Combine(root, key + ".lock"));
        if (buildLock is null || Find(home, key) is not null) return;

        var started = DateTime.UtcNow;
        // Sockets go under run/ (short paths for sun_path); the state is written next to its final place.
        var work = Path.Combine(home.RunDirectory, "tpl-" + key[..12]);
        var staging = Path.Combine(root, key + ".tmp");
        foreach (var dir in new[] { work, staging })
        {
            if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);
            System.IO.Directory.CreateDirectory(dir);
        }
        var q = launch.Qemu!;
        var vmSocket = Path.Combine(work, "vm.sock");
        var qmpSocket = Path.Combine(work, "qmp.sock");
        var migrationSocket = Path.Combine(work, "mig.sock");
        var emptyShare = System.IO.Directory.CreateDirectory(Path.Combine(work, "share")).FullName;
        var argv = q.Argv
            .Select(a => TemplateArgument(a, launch, vmSocket, Path.Combine(staging, "console.log"), emptyShare))
            .Concat(["-qmp", $"unix:{QemuCommandLine.Escape(qmpSocket)},server=on,wait=off"])
            .ToList();

        using var agentListener = new Socket(new SafeSocketHandle(Libc.ListenUnix(vmSocket, 1), ownsHandle: true));
        // QEMU's own messages go to the template's log, not to the output of the application that builds it.
        var qemuLog = Path.Combine(staging, "qemu.log");
        int logFd = Libc.Check(Libc.open(qemuLog, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1a4), $"open {qemuLog}");
        ChildProcess qemu;
        try
        {
            qemu = QemuSandboxHost.SpawnVmm(argv, output: logFd, environment: q.Environment);
        }
        finally
        {
            Libc.close(logFd);
        }
        Socket? agentPort = null;
        bool quitSent = false;
        try
        {
            using var qmp = QmpClient.Connect(qmpSocket, TimeSpan.FromSeconds(30), () => !qemu.TryReap());
            // QEMU connects its agent chardev at start-up; a listener that never sees it must not hang this thread.
            if (!agentListener.Poll(TimeSpan.FromSeconds(30), SelectMode.SelectRead))
                throw new MicrosandboxException("the template's QEMU did not connect its agent port");
            agentPort = agentListener.Accept(); // held open, never written: the guest must not see a bootstrap
            WaitForAgentPort(qmp, qemu, TimeSpan.FromSeconds(Math.Max(10, q.ReadyTimeoutSecs)));

            QemuStateFile.Save(qmp, migrationSocket, Path.Combine(staging, StateFile));
            qmp.Quit();
            quitSent = true;
        }
        catch (Exception e) when (e is MicrosandboxException or IOException or SocketException)
        {
            throw new MicrosandboxException($"{e.Message}; QEMU said: {QemuSandboxHost.Tail(qemuLog, 5)}");
        }
        finally
        {
            agentPort?.Dispose();
            if (!qemu.TryReap())
            {
                // Only a QEMU that was told to quit gets time to do so.
                if (!quitSent || !qemu.WaitForExitAsync().Wait(TimeSpan.FromSeconds(5))) qemu.Kill();
                qemu.WaitForExitAsync().GetAwaiter().GetResult();
            }
            try { System.IO.Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
        File.WriteAllLines(Path.Combine(staging, "argv"), argv);
        var final = Path.Combine(root, key);
        if (System.IO.Directory.Exists(final)) System.IO.Directory.Delete(final, recursive: true);
        System.IO.Directory.Move(staging, final);
        logger.LogInformation("snapshot template {Key} saved in {Seconds:0.0} s ({Size} MiB)", key,
            (DateTime.UtcNow - started).TotalSeconds, new FileInfo(Path.Combine(final, StateFile)).Length >> 20);
        Prune(home);
    }

    // The agent opens its port once its modules are loaded, then blocks waiting for core.bootstrap: that moment,
    // seen from the host as the port's frontend opening, is where every clone will resume.
    private static void WaitForAgentPort(QmpClient qmp, ChildProcess qemu, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (qemu.TryReap()) throw new MicrosandboxException("QEMU exited while the template booted");
            if (qmp.Execute("query-chardev") is JsonArray devices
                && devices.Any(d => d?["label"]?.GetValue<string>() == QemuCommandLine.AgentChardev && d["frontend-open"]?.GetValue<bool>() == true))
                return;
            Thread.Sleep(5);
        }
        throw new MicrosandboxException($"the template's guest agent did not open its port within {timeout.TotalSeconds:0} s");
    }

    // The builder boots the shape, not the first sandbox: its own sockets and console, no host ports (the sandbox may
    // still hold them), an empty directory for every 9p share, and volumes copy-on-write (never the sandbox's data).
    internal static string TemplateArgument(string arg, LaunchConfig launch, string vmSocket, string console, string emptyShare)
    {
        var a = arg.Replace(QemuCommandLine.Escape(QemuCommandLine.VmmSocketPath(launch.AgentSock)), QemuCommandLine.Escape(vmSocket), StringComparison.Ordinal)
            .Replace(QemuCommandLine.Escape(QemuCommandLine.ConsoleLogPath(launch.LogDir)), QemuCommandLine.Escape(console), StringComparison.Ordinal);
        if (a.StartsWith("local,", StringComparison.Ordinal)) return WithoutOption(a, "path") + ",path=" + QemuCommandLine.Escape(emptyShare);
        if (a.StartsWith("user,", StringComparison.Ordinal)) return WithoutOption(a, "hostfwd");
        if (DriveFile(a) is not null && !a.Contains(",snapshot=on", StringComparison.Ordinal) && !a.Contains(",readonly=on", StringComparison.Ordinal))
            return a + ",snapshot=on";
        return a;
    }

    // The image path of a "-drive file=PATH,…" value (commas inside the path are doubled), or null.
    private static string? DriveFile(string arg)
    {
        if (!arg.StartsWith("file=", StringComparison.Ordinal)) return null;
        var path = new StringBuilder();
        for (int i = 5; i < arg.Length; i++)
        {
            if (arg[i] == ',' && i + 1 < arg.Length && arg[i + 1] == ',') { path.Append(','); i++; continue; }
            if (arg[i] == ',') break;
            path.Append(arg[i]);
        }
        return path.ToString();
    }

    // "local,id=fs0,path=/x,security_model=none" → without the path=… option (commas inside values are doubled).
    private static string WithoutOption(string value, string option)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] == ',' && i + 1 < value.Length && value[i + 1] == ',') { current.Append(",,"); i++; continue; }
            if (value[i] == ',') { parts.Add(current.ToString()); current.Clear(); continue; }
            current.Append(value[i]);
        }
        parts.Add(current.ToString());
        return string.Join(',', parts.Where(p => !p.StartsWith(option + "=", StringComparison.Ordinal)));
    }
}
