using System.Security.Cryptography;
using System.Text;

namespace Microsandbox.Spawn;

/// <summary>Names upstream derives from user input: share tags / disk serials from guest paths, hostnames from sandbox names.</summary>
public static class GuestNames
{
    /// <summary>The longest hostname the guest accepts.</summary>
    public const int MaxHostnameBytes = 64;

    /// <summary>
    /// A stable share tag / virtio-blk serial for a guest path: up to 11 characters of the path with '/' as '_',
    /// then '_' and 8 hex of sha256(path) — at most 20 bytes, the virtio-blk serial limit, and collision-resistant
    /// (<c>/var/log</c> and <c>/var_log</c> differ).
    /// </summary>
    public static string MountTag(string guestPath)
    {
        var slug = new string(guestPath.Replace('/', '_').TrimStart('_').Take(11).ToArray());
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(guestPath)).AsSpan(0, 4));
        return slug.Length == 0 ? hash : $"{slug}_{hash}";
    }

    /// <summary>The guest hostname for a sandbox name: the name itself, or a 55-byte prefix + '-' + 8 hex when too long.</summary>
    public static string HostnameFor(string sandboxName)
    {
        var bytes = Encoding.UTF8.GetBytes(sandboxName);
        if (bytes.Length <= MaxHostnameBytes) return sandboxName;
        var digest = SHA256.HashData(bytes);
        var suffix = Convert.ToHexStringLower(digest.AsSpan(0, 4));
        int end = MaxHostnameBytes - 1 - 8;
        // Back off to a UTF-8 character boundary.
        while (end > 0 && (bytes[end] & 0xC0) == 0x80) end--;
        return Encoding.UTF8.GetString(bytes, 0, end) + "-" + suffix;
    }
}
