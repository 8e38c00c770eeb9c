namespace Microsandbox.Runtime;

/// <summary>The argv of a sandbox process (<c>sandbox --name … --config-fd 96 …</c>), as upstream's <c>msb sandbox</c> takes it.</summary>
/// <param name="Name">Sandbox name.</param>
/// <param name="SandboxId">The sandbox row id.</param>
/// <param name="Vcpus">Virtual CPUs.</param>
/// <param name="MemoryMib">Guest memory in MiB.</param>
/// <param name="ConfigFd">Inherited fd holding the launch config.</param>
/// <param name="ConfigFile">A file holding the launch config (alternative to the fd).</param>
/// <param name="ParentWatchFd">Watchdog pipe read end: end of file means the creator died.</param>
/// <param name="StartupFd">Where to write the startup JSON instead of stdout.</param>
/// <param name="LifecycleLockFd">The inherited, already locked lifecycle lock.</param>
/// <param name="LogLevel">error, warn, info, debug or trace.</param>
public sealed record SandboxProcessArgs(
    string Name,
    int SandboxId,
    int Vcpus,
    int MemoryMib,
    int? ConfigFd,
    string? ConfigFile,
    int? ParentWatchFd,
    int? StartupFd,
    int? LifecycleLockFd,
    string? LogLevel)
{
    private static readonly string[] LogLevels = ["error", "warn", "info", "debug", "trace"];

    /// <summary>
    /// Parses the arguments after <c>sandbox</c> exactly as <c>msb sandbox</c> takes them. Hand-written rather than
    /// going through the CLI's parser: this runs once per VM boot, on the critical path.
    /// </summary>
    /// <exception cref="MicrosandboxException">An unknown flag, a missing value or a malformed number, named.</exception>
    public static SandboxProcessArgs Parse(IReadOnlyList<string> args)
    {
        string? name = null, configFile = null, level = null;
        int? id = null, configFd = null, watchFd = null, startupFd = null, lockFd = null;
        int vcpus = 1, memory = 512;
        for (int i = 0; i < args.Count; i++)
        {
            var flag = args[i];
            if (flag.StartsWith("--", StringComparison.Ordinal) && LogLevels.Contains(flag[2..]))
            {
                level = flag[2..];
                continue;
            }
            string Value() => i + 1 < args.Count ? args[++i] : throw new MicrosandboxException($"sandbox: {flag} needs a value");
            int Number() => int.TryParse(Value(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
                ? n : throw new MicrosandboxException($"sandbox: {flag} needs a non-negative integer, got '{args[i]}'");
            switch (flag)
            {
                case "--name": name = Value(); break;
                case "--sandbox-id": id = Number(); break;
                case "--vcpus": vcpus = Number(); break;
                case "--memory-mib": memory = Number(); break;
                case "--config-fd": configFd = Number(); break;
                case "--config-file": configFile = Value(); break;
                case "--parent-watch-fd": watchFd = Number(); break;
                case "--startup-fd": startupFd = Number(); break;
                case "--lifecycle-lock-fd": lockFd = Number(); break;
                default: throw new MicrosandboxException($"sandbox: unknown argument '{flag}'");
            }
        }
        if (string.IsNullOrEmpty(name)) throw new MicrosandboxException("sandbox: --name is required");
        if (id is null) throw new MicrosandboxException("sandbox: --sandbox-id is required");
        return new SandboxProcessArgs(name, id.Value, vcpus, memory, configFd, configFile, watchFd, startupFd, lockFd, level);
    }
}
