using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Microsandbox.Spawn;

/// <summary>
/// Single-file bind mounts (upstream <c>stage_file_mounts</c>): a directory share can only export directories, so each
/// file gets its own staging directory holding a hard link to it (same inode: writes go both ways), or a copy when
/// the file is on another filesystem. The guest agent then binds the one file to its guest path.
/// </summary>
public static partial class FileMountStaging
{
    private const int Exdev = 18;

    /// <summary>The share tag of a staged file: <c>fm_</c> + 8 hex of sha256(guest path).</summary>
    public static string Tag(string guestPath)
    {
        ArgumentNullException.ThrowIfNull(guestPath);
        return "fm_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(guestPath)).AsSpan(0, 4));
    }

    /// <summary>Stages <paramref name="hostFile"/> under <paramref name="stagingRoot"/>; returns the directory to share.</summary>
    /// <param name="hostFile">The file to expose.</param>
    /// <param name="guestPath">Where the guest sees it.</param>
    /// <param name="stagingRoot">Per-sandbox staging root (removed with the sandbox).</param>
    public static StagedFileMount Stage(string hostFile, string guestPath, string stagingRoot)
    {
        ArgumentNullException.ThrowIfNull(hostFile);
        var tag = Tag(guestPath);
        var dir = Path.Combine(stagingRoot, tag);
        var fileName = Path.GetFileName(hostFile);
        if (fileName.Length == 0) throw new InvalidConfigException($"file mount has no filename: {hostFile}");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, fileName);
        bool linked = link(hostFile, target) == 0;
        if (!linked)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Exdev)
                throw new MicrosandboxException($"mounts: cannot stage file '{hostFile}' for '{guestPath}': {Marshal.GetPInvokeErrorMessage(errno)}");
            File.Copy(hostFile, target);
        }
        return new StagedFileMount(tag, dir, fileName, linked);
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string oldPath, string newPath);
}

/// <summary>A staged single-file mount.</summary>
/// <param name="Tag">Share tag (<c>fm_…</c>).</param>
/// <param name="Directory">The shared staging directory.</param>
/// <param name="FileName">The file's name inside it.</param>
/// <param name="HardLinked">True when the staged file is the same inode as the host file (guest writes reach the host).</param>
public sealed record StagedFileMount(string Tag, string Directory, string FileName, bool HardLinked);
