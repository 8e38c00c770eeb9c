using Microsandbox.Host;
using Microsandbox.State;

namespace Microsandbox.Spawn;

/// <summary>
/// The exclusive <c>flock</c> on <c>run/locks/&lt;hash&gt;.lock</c> that says "this sandbox name has a live owner".
/// The launcher takes it, hands the descriptor to the sandbox process (fd 99), which holds it until it exits,
/// so a crashed owner releases it automatically and two launches of one name cannot race.
/// </summary>
internal sealed class LifecycleLock : IDisposable
{
    private readonly FileLock _lock;

    private LifecycleLock(FileLock held) => _lock = held;

    /// <summary>The locked descriptor (close-on-exec in this process).</summary>
    public int Descriptor => _lock.Descriptor;

    /// <summary>Takes the lock, retrying until <paramref name="timeout"/>; names the sandbox when someone else owns it.</summary>
    public static async Task<LifecycleLock> AcquireAsync(MicrosandboxHome home, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var path = home.LifecycleLockPath(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (FileLock.TryAcquire(path) is { } held) return new LifecycleLock(held);
            if (DateTime.UtcNow >= deadline)
                throw new MicrosandboxException($"sandbox \"{name}\" lifecycle is currently owned by another process (lock {path})");
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>True when some process holds the lock for <paramref name="name"/> (i.e. its sandbox process is alive).</summary>
    public static bool IsHeld(MicrosandboxHome home, string name)
    {
        using var probe = FileLock.TryAcquireExisting(home.LifecycleLockPath(name));
        return probe is null;
    }

    /// <summary>
    /// After the sandbox process was killed: QEMU dies with it (parent-death signal) a moment later and holds the lock
    /// until then. Waits up to 5 s for the lock to be free.
    /// </summary>
    public static async Task WaitReleasedAsync(MicrosandboxHome home, string name, CancellationToken cancellationToken)
    {
        for (int i = 0; i < 100 && IsHeld(home, name); i++) await Task.Delay(50, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Releases this process's hold (the sandbox process keeps its inherited copy).</summary>
    public void Dispose() => _lock.Dispose();
}
