using System.Runtime.InteropServices;

namespace Microsandbox.State;

/// <summary>
/// An exclusive advisory <c>flock</c> on a file, the primitive msb coordinates with: the catalog's migration gate
/// (<c>db/msb.db.migration.lock</c>) and each sandbox's lifecycle lock (<c>run/locks/&lt;hash&gt;.lock</c>).
/// .NET's FileStream locking is not used on purpose: it takes its own flock on the descriptor (shared or
/// exclusive by FileShare), which would interfere with this one.
/// </summary>
internal sealed class FileLock : IDisposable
{
    private int _fd;

    private FileLock(int fd) => _fd = fd;

    /// <summary>The locked descriptor (close-on-exec), for handing the lock to a child process at a fixed fd.</summary>
    public int Descriptor => _fd;

    /// <summary>Takes the lock without waiting, creating the file; null when another open file description holds it.</summary>
    public static FileLock? TryAcquire(string path)
    {
        if (!IsSupported)
        {
            return new FileLock(-1);
        }

        var fd = OpenLockFile(path, create: true);
        if (TryLock(fd, path))
        {
            return new FileLock(fd);
        }

        Host.Libc.close(fd);
        return null;
    }

    /// <summary>Waits (polling, so cancellation works) until the lock is ours; creates the file if needed.</summary>
    public static async Task<FileLock> AcquireAsync(string path, CancellationToken cancellationToken)
    {
        if (!IsSupported)
        {
            return new FileLock(-1);
        }

        var fd = OpenLockFile(path, create: true);
        try
        {
            while (!TryLock(fd, path))
            {
                await Task.Delay(20, cancellationToken);
            }

            return new FileLock(fd);
        }
        catch
        {
            Host.Libc.close(fd);
            throw;
        }
    }

    /// <summary>
    /// Takes the lock if nobody holds it. Returns null when another process holds it. A missing file means
    /// nobody holds it; it is not created then (a sweep must not litter the run directory).
    /// </summary>
    public static FileLock? TryAcquireExisting(string path)
    {
        if (!IsSupported || !File.Exists(path))
        {
            return new FileLock(-1);
        }

        var fd = OpenLockFile(path, create: false);
        if (fd < 0)
        {
            // Raced with a removal: nobody can hold a lock on a file that is gone.
            return new FileLock(-1);
        }

        if (TryLock(fd, path))
        {
            return new FileLock(fd);
        }

        Host.Libc.close(fd);
        return null;
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            // Close, never LOCK_UN: a child that inherited this descriptor (a sandbox process) shares the lock and must
            // keep it; the lock goes when the last descriptor of the open file description does.
            Host.Libc.close(_fd);
            _fd = -1;
        }
    }

    private static bool IsSupported => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    private static int OpenLockFile(string path, bool create)
    {
        // O_CLOEXEC (value differs on macOS): the lock must never leak into a child such as a sandbox process.
        var cloexec = OperatingSystem.IsMacOS() ? 0x1000000 : Host.Libc.O_CLOEXEC;
        var creat = OperatingSystem.IsMacOS() ? 0x200 : Host.Libc.O_CREAT;
        var fd = Host.Libc.open(path, Host.Libc.O_RDWR | cloexec | (create ? creat : 0), Convert.ToInt32("644", 8));
        if (fd < 0 && create)
        {
            throw new MicrosandboxException($"cannot open lock file {path}: errno {Marshal.GetLastPInvokeError()}");
        }

        return fd;
    }

    private static bool TryLock(int fd, string path)
    {
        if (Host.Libc.flock(fd, Host.Libc.LOCK_EX | Host.Libc.LOCK_NB) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        var wouldBlock = OperatingSystem.IsMacOS() ? 35 : Host.Libc.EWOULDBLOCK;
        if (errno != wouldBlock && errno != Host.Libc.EINTR)
        {
            throw new MicrosandboxException($"cannot lock {path}: errno {errno}");
        }

        return false;
    }
}
