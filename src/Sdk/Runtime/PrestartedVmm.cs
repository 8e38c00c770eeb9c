using System.Text.Json;
using Microsandbox.Engines.Qemu;
using Microsandbox.Host;

namespace Microsandbox.Runtime;

/// <summary>
/// QEMU started before the sandbox process has read its launch config in full. The engine puts the complete VMM argv
/// into the config (<see cref="QemuLaunch.Argv"/>); the process picks that, the relay/log directories and nothing else
/// out of the document with the framework's JSON reader, starts the VMM, and only then deserialises the whole config
/// and opens the database while the guest boots. Anything unexpected here means "no prestart": the host then starts
/// QEMU the ordinary way and reports errors there.
/// </summary>
internal sealed class PrestartedVmm : IDisposable
{
    private PrestartedVmm(ChildProcess process, int listenerFd, IReadOnlyList<string> argv)
    {
        StartedAt = DateTime.Now;
        Process = process;
        ListenerFd = listenerFd;
        Argv = argv;
    }

    /// <summary>The VMM (through setpriv when available).</summary>
    public ChildProcess Process { get; }

    /// <summary>The listening socket (raw fd) QEMU's agent chardev connects to; the host takes it over.</summary>
    public int ListenerFd { get; }

    /// <summary>When QEMU was started (for the runtime log's start-up figure).</summary>
    public DateTime StartedAt { get; }

    /// <summary>QEMU's own argv.</summary>
    public IReadOnlyList<string> Argv { get; }

    /// <summary>What the early start needs, read from the raw config; null when the config carries no VMM argv.</summary>
    public static EarlyLaunch? Peek(ReadOnlySpan<byte> config)
    {
        try
        {
            using var doc = JsonDocument.Parse(config.ToArray());
            var root = doc.RootElement;
            if (!root.TryGetProperty("qemu", out var qemu) || qemu.ValueKind != JsonValueKind.Object) return null;
            if (!qemu.TryGetProperty("argv", out var argvElement) || argvElement.ValueKind != JsonValueKind.Array || argvElement.GetArrayLength() == 0) return null;
            var argv = argvElement.EnumerateArray().Select(e => e.GetString() ?? throw new FormatException("argv entry is not a string")).ToList();
            var restore = qemu.TryGetProperty("restore_state", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            if (qemu.TryGetProperty("environment", out var env) && env.ValueKind == JsonValueKind.Object)
                foreach (var variable in env.EnumerateObject())
                    environment[variable.Name] = variable.Value.GetString() ?? throw new FormatException("environment value is not a string");
            return new EarlyLaunch(argv, root.GetProperty("agent_sock").GetString()!, root.GetProperty("runtime_dir").GetString()!, root.GetProperty("log_dir").GetString()!)
            {
                RestoreState = restore,
                Environment = environment,
            };
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Creates the directories and the agent-port listener, then starts QEMU; null when any of that fails.</summary>
    public static PrestartedVmm? TryStart(EarlyLaunch early)
    {
        if (!File.Exists(early.Argv[0])) return null;
        int listener = -1;
        try
        {
            listener = QemuSandboxHost.ListenForVmm(early.RuntimeDir, early.AgentSock);
            var process = QemuSandboxHost.SpawnVmm(early.Argv, early.RestoreState, environment: early.Environment);
            return new PrestartedVmm(process, listener, early.Argv);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or MicrosandboxException)
        {
            if (listener >= 0) Libc.close(listener);
            return null;
        }
    }

    /// <summary>Kills the VMM (used when the full config turns out to be unusable).</summary>
    public void Dispose()
    {
        if (!Process.TryReap())
        {
            Process.Kill();
            Process.WaitForExitAsync().GetAwaiter().GetResult();
        }
        Libc.close(ListenerFd);
    }
}

/// <summary>The fields of the launch config the VMM start needs.</summary>
/// <param name="Argv">QEMU's argv (program first).</param>
/// <param name="AgentSock">The relay socket (the VMM socket lives next to it).</param>
/// <param name="RuntimeDir">The sandbox's runtime directory.</param>
/// <param name="LogDir">Where runtime.log and console.log go.</param>
internal sealed record EarlyLaunch(IReadOnlyList<string> Argv, string AgentSock, string RuntimeDir, string LogDir)
{
    /// <summary>A template state QEMU resumes from (its fd 3), when the launch is a clone.</summary>
    public string? RestoreState { get; init; }

    /// <summary>Variables QEMU gets on top of this process's (the network filter and its policy).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}
