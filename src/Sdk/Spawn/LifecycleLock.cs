using System.Runtime.InteropServices;
using Microsandbox.Host;

namespace Microsandbox.Spawn;

/// <summary>
/// The exclusive <c>flock</c> on <c>run/locks/&lt;hash&gt;.lock</c> that says "this sandbox name has a live owner".
/// The launcher takes it, hands the descriptor to the sandbox process (fd 99), which holds it until it exits,
/// so a crashed owner releases it automatically and two launches of one name cannot race.
/// </summary>
internal sealed class LifecycleLock : IDisposable
{
    private int _fd;

    private LifecycleLock(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>The locked descriptor (close-on-exec in this process).</summary>
    public int Descriptor => _fd;

    /// <summary>Takes the lock, retrying until <paramref name="timeout"/>; names the sandbox when someone else owns it.</summary>
    public static async Task<LifecycleLock> AcquireAsync(MicrosandboxHome home, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var path = home.LifecycleLockPath(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var held = TryAcquire(path);
            if (held is not null) return held;
            if (DateTime.UtcNow >= deadline)
                throw new MicrosandboxException($"sandbox \"{name}\" lifecycle is currently owned by another process (lock {path})");
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes the lock without waiting, or returns null when another process holds it.</summary>
    public static LifecycleLock? TryAcquire(string path)
    {
        int fd = Libc.Check(Libc.open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1a4 /* 0644 */), $"open {path}");
        if (Libc.flock(fd, Libc.LOCK_EX | Libc.LOCK_NB) == 0) return new LifecycleLock(fd, path);
        int errno = Marshal.GetLastPInvokeError();
        Libc.close(fd);
        if (errno == Libc.EWOULDBLOCK) return null;
        throw new IOException($"flock {path} failed (errno {errno})");
    }

    /// <summary>True when some process holds the lock for <paramref name="name"/> (i.e. its sandbox process is alive).</summary>
    public static bool IsHeld(MicrosandboxHome home, string name)
    {
        var path = home.LifecycleLockPath(name);
        if (!File.Exists(path)) return false;
        using var probe = TryAcquire(path);
        return probe is null;
    }

    /// <summary>Releases this process's hold (the sandbox process keeps its inherited copy).</summary>
    public void Dispose() => FileDescriptor.Close(ref _fd);
}
