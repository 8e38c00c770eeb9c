using System.Runtime.InteropServices;

namespace Microsandbox.Images;

/// <summary>The libc calls layer extraction needs that .NET does not expose: ownership, device nodes and hard links.</summary>
internal static partial class FileSystemCalls
{
    private const uint S_IFCHR = 0x2000;
    private const uint S_IFBLK = 0x6000;
    private const uint S_IFIFO = 0x1000;

    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LChown(string path, int uid, int gid);

    [LibraryImport("libc", EntryPoint = "mknod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MkNod(string path, uint mode, ulong device);

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string existing, string created);

    [LibraryImport("libc", EntryPoint = "chmod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int ChMod(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    /// <summary>Whether this process runs as root (can set ownership and create device nodes).</summary>
    public static bool IsRoot => GetEuid() == 0;

    /// <summary>Sets a path's owner without following a final symlink; ignored when not root.</summary>
    public static void SetOwner(string path, int uid, int gid)
    {
        if (!IsRoot) return;
        if (LChown(path, uid, gid) != 0) throw Error("lchown", path);
    }

    /// <summary>Sets the full permission bits, including setuid, setgid and sticky.</summary>
    public static void SetMode(string path, int mode)
    {
        if (ChMod(path, (uint)mode & 0xFFF) != 0) throw Error("chmod", path);
    }

    /// <summary>Creates a character device, block device or FIFO; device nodes are skipped when not root.</summary>
    public static void MakeNode(string path, char kind, int mode, int major, int minor)
    {
        uint type = kind switch { 'c' => S_IFCHR, 'b' => S_IFBLK, _ => S_IFIFO };
        if (type != S_IFIFO && !IsRoot) return;
        ulong dev = ((ulong)(uint)major & 0xfffff000UL) << 32 | ((ulong)(uint)major & 0xfffUL) << 8
                  | ((ulong)(uint)minor & 0xffffff00UL) << 12 | ((ulong)(uint)minor & 0xffUL);
        if (MkNod(path, type | ((uint)mode & 0xFFF), dev) != 0) throw Error("mknod", path);
    }

    /// <summary>Creates a hard link.</summary>
    public static void HardLink(string existing, string created)
    {
        if (Link(existing, created) != 0) throw Error("link", created);
    }

    private static IOException Error(string call, string path) =>
        new($"{call} {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
}
