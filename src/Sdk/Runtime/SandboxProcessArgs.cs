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
    string? LogLevel);
