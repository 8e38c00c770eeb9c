using System.Runtime.InteropServices;

namespace Microsandbox.Host;

/// <summary>
/// The few libc calls the runtime contract needs and .NET does not expose: fixed-number fd inheritance
/// (posix_spawn file actions), session detachment, advisory locks and raw pipes.
/// </summary>
internal static unsafe partial class Libc
{
    private const string Lib = "libc";

    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_CLOEXEC = 0x80000;
    public const int O_NONBLOCK = 0x800;
    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int F_DUPFD_CLOEXEC = 1030;
    public const int FD_CLOEXEC = 1;
    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;
    public const int LOCK_UN = 8;
    public const int WNOHANG = 1;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGINT = 2;
    public const int SIGPIPE = 13;
    public const int EINTR = 4;
    public const int EPERM = 1;
    public const int EAGAIN = 11;
    public const int ECHILD = 10;
    public const int ESRCH = 3;
    public const int EWOULDBLOCK = 11;

    /// <summary>glibc's <c>POSIX_SPAWN_SETSIGDEF</c>.</summary>
    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    /// <summary>glibc's <c>POSIX_SPAWN_SETSIGMASK</c>.</summary>
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;
    /// <summary>glibc's <c>POSIX_SPAWN_SETSID</c> (glibc 2.26+).</summary>
    public const short POSIX_SPAWN_SETSID = 0x80;

    // Opaque glibc structures: sized generously so layout changes cannot overflow them.
    public const int SpawnFileActionsSize = 256;
    public const int SpawnAttrSize = 1024;
    public const int SigSetSize = 128;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int flock(int fd, int operation);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int stat_(string path, byte* buf);

    [LibraryImport(Lib, EntryPoint = "fstat", SetLastError = true)]
    private static partial int fstat_(int fd, byte* buf);

    // x86-64 struct stat: st_dev (8 bytes), then st_ino (8 bytes); 144 bytes in all.
    private const int StatSize = 144;

    /// <summary>The inode of <paramref name="path"/>, or null when it cannot be stat'ed (e.g. it is gone).</summary>
    public static ulong? Inode(string path)
    {
        byte* buf = stackalloc byte[StatSize];
        return stat_(path, buf) == 0 ? *(ulong*)(buf + 8) : null;
    }

    /// <summary>The inode of an open descriptor, or null.</summary>
    public static ulong? Inode(int fd)
    {
        byte* buf = stackalloc byte[StatSize];
        return fstat_(fd, buf) == 0 ? *(ulong*)(buf + 8) : null;
    }

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nint count);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nint count);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int kill(int pid, int sig);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int waitpid(int pid, int* status, int options);

    [LibraryImport(Lib)]
    public static partial int getpid();

    [LibraryImport(Lib)]
    public static partial int getppid();

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int setsid();

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int dup2(int oldfd, int newfd);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int memfd_create(string name, uint flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial long lseek(int fd, long offset, int whence);

    /// <summary><c>MFD_CLOEXEC</c>.</summary>
    public const uint MFD_CLOEXEC = 1;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newfd);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawn_file_actions_addopen(void* actions, int fd, string path, int oflag, int mode);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int posix_spawnattr_init(void* attr);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int posix_spawnattr_destroy(void* attr);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int posix_spawnattr_setflags(void* attr, short flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int posix_spawnattr_setsigmask(void* attr, void* sigmask);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int posix_spawnattr_setsigdefault(void* attr, void* sigdefault);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sigemptyset(void* set);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sigfillset(void* set);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    public const int AF_UNIX = 1;
    public const int SOCK_STREAM = 1;
    public const int SOCK_CLOEXEC = 0x80000;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int bind(int fd, byte* address, uint length);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int listen(int fd, int backlog);

    /// <summary>
    /// A listening unix stream socket as a raw fd (close-on-exec), without touching <see cref="System.Net.Sockets.Socket"/>,
    /// whose first use costs a process tens of milliseconds of start-up on the boot path.
    /// </summary>
    public static int ListenUnix(string path, int backlog)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= 108) throw new IOException($"unix socket path too long ({bytes.Length} bytes, at most 107): {path}");
        int fd = Check(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
        var address = stackalloc byte[110];
        new Span<byte>(address, 110).Clear();
        address[0] = AF_UNIX; // sa_family_t, little-endian
        bytes.CopyTo(new Span<byte>(address + 2, 108));
        if (bind(fd, address, (uint)(2 + bytes.Length + 1)) < 0 || listen(fd, backlog) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            close(fd);
            throw new IOException($"listen on {path} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
        return fd;
    }

    [LibraryImport(Lib, SetLastError = true)]
    private static partial int socketpair(int domain, int type, int protocol, int* sv);

    /// <summary>A connected pair of unix stream sockets (close-on-exec), as sockets the caller owns.</summary>
    public static (System.Net.Sockets.Socket, System.Net.Sockets.Socket) SocketPair()
    {
        int* sv = stackalloc int[2];
        Check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair");
        return (new System.Net.Sockets.Socket(new System.Net.Sockets.SafeSocketHandle(sv[0], ownsHandle: true)),
                new System.Net.Sockets.Socket(new System.Net.Sockets.SafeSocketHandle(sv[1], ownsHandle: true)));
    }

    /// <summary>Throws an <see cref="IOException"/> carrying errno when a call returned -1.</summary>
    public static int Check(int result, string what)
    {
        if (result == -1)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"{what} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
        return result;
    }

}
