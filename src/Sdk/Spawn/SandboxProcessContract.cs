namespace Microsandbox.Spawn;

/// <summary>
/// The argv/fd contract between a launcher and a sandbox process (<c>msb sandbox</c> or ours): fixed descriptor numbers
/// in the child and the startup JSON it reports.
/// </summary>
public static class SandboxProcessContract
{
    /// <summary>The launch config JSON (read to end of file).</summary>
    public const int ConfigFd = 96;
    /// <summary>Read end of the creator's watchdog pipe: end of file means the creator died.</summary>
    public const int ParentWatchFd = 97;
    /// <summary>Where a detached sandbox process writes its startup JSON.</summary>
    public const int StartupFd = 98;
    /// <summary>The held lifecycle lock.</summary>
    public const int LifecycleLockFd = 99;
    /// <summary>The first of the extra inherited descriptors (held disk-image locks), numbered upwards.</summary>
    public const int FirstDiskLockFd = 100;
    /// <summary>How long a launcher waits for the startup JSON.</summary>
    public static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);
}
