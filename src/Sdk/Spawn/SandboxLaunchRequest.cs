using Microsandbox.Host;
using Microsandbox.Runtime;

namespace Microsandbox.Spawn;

/// <summary>Everything the launcher needs to start one sandbox process.</summary>
/// <param name="Program">The sandbox-process program and any leading arguments (e.g. <c>[msb]</c>, or <c>[dotnet, microsandbox.dll]</c>).</param>
/// <param name="Home">The state directory.</param>
/// <param name="Name">Sandbox name.</param>
/// <param name="SandboxId">The sandbox row id.</param>
/// <param name="Vcpus">Virtual CPUs.</param>
/// <param name="MemoryMib">Guest memory.</param>
/// <param name="Launch">The launch config sent over the config fd.</param>
/// <param name="Mode">Attached (dies with the creator) or detached.</param>
/// <param name="LogLevelFlag">Optional <c>--error</c>..<c>--trace</c> flag.</param>
/// <param name="Environment">Environment overrides for the child.</param>
public sealed record SandboxLaunchRequest(
    IReadOnlyList<string> Program,
    MicrosandboxHome Home,
    string Name,
    int SandboxId,
    int Vcpus,
    int MemoryMib,
    LaunchConfig Launch,
    SpawnMode Mode,
    string? LogLevelFlag = null,
    IReadOnlyDictionary<string, string?>? Environment = null)
{
    /// <summary>Disk-image locks the sandbox process inherits (at fds 100, 101, …) and holds for its life; see <see cref="Spawn.DiskLocks"/>.</summary>
    public DiskLockSet? DiskLocks { get; init; }

    /// <summary>The argv the sandbox process sees, exactly as upstream's spawn builds it.</summary>
    public IReadOnlyList<string> BuildArgv()
    {
        var argv = new List<string>(Program) { "sandbox" };
        if (LogLevelFlag is not null) argv.Add(LogLevelFlag);
        argv.AddRange(["--name", Name, "--sandbox-id", SandboxId.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (Mode == SpawnMode.Attached)
            argv.AddRange(["--parent-watch-fd", SandboxProcessContract.ParentWatchFd.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        else
            argv.AddRange(["--startup-fd", SandboxProcessContract.StartupFd.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        argv.AddRange(["--vcpus", Vcpus.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        argv.AddRange(["--memory-mib", MemoryMib.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        argv.AddRange(["--config-fd", SandboxProcessContract.ConfigFd.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        argv.AddRange(["--lifecycle-lock-fd", SandboxProcessContract.LifecycleLockFd.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        return argv;
    }
}
