using System.Formats.Tar;
using System.IO.Compression;

namespace Microsandbox.Images;

/// <summary>
/// Applies image layers (tar, optionally gzip-compressed) onto a directory in order, with OCI whiteout semantics:
/// <c>.wh.NAME</c> deletes NAME from lower layers, <c>.wh..wh..opq</c> empties its directory of lower-layer content.
/// Ownership (when root), modes including setuid/setgid/sticky, symlinks, hard links, device nodes and FIFOs are
/// kept. Every path is resolved inside the root as if chrooted, so no entry can write outside it.
/// </summary>
internal sealed class LayerApplier
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private const int MaxSymlinkHops = 40;

    private readonly string _root;

    public LayerApplier(string root) => _root = Path.GetFullPath(root).TrimEnd('/');

    /// <summary>Applies one layer read from <paramref name="layer"/> (tar or gzip'd tar, detected by content).</summary>
    public async Task ApplyAsync(Stream layer, CancellationToken cancellationToken)
    {
        var input = await DecompressAsync(layer, cancellationToken).ConfigureAwait(false);
        await using var reader = new TarReader(input, leaveOpen: false);
        // Whiteouts act only on lower layers: what this layer itself created is protected from them.
        var createdHere = new HashSet<string>(StringComparer.Ordinal);
        var directoryModes = new List<(string Path, TarEntry Entry)>();
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Normalize(entry.Name) is not { } relative) continue;
            var parentRel = Path.GetDirectoryName(relative) ?? "";
            var name = Path.GetFileName(relative);
            if (name == OpaqueMarker)
            {
                var dir = Resolve(parentRel, followLast: true, createParents: true);
                if (Directory.Exists(dir))
                {
                    foreach (var child in Directory.EnumerateFileSystemEntries(dir).ToList())
                    {
                        if (!createdHere.Contains(Rel(child))) Remove(child);
                    }
                }
                continue;
            }
            if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            {
                var victim = Path.Combine(Resolve(parentRel, followLast: true, createParents: true), name[WhiteoutPrefix.Length..]);
                if (!createdHere.Contains(Rel(victim))) Remove(victim);
                continue;
            }

            var target = Path.Combine(Resolve(parentRel, followLast: true, createParents: true), name);
            createdHere.Add(Rel(target));
            await CreateAsync(entry, target, directoryModes, cancellationToken).ConfigureAwait(false);
        }
        // Directory modes last, so a read-only directory still received its children.
        foreach (var (path, entry) in directoryModes)
        {
            FileSystemCalls.SetMode(path, (int)entry.Mode);
            Directory.SetLastWriteTimeUtc(path, entry.ModificationTime.UtcDateTime);
        }
    }

    private async Task CreateAsync(TarEntry entry, string target, List<(string, TarEntry)> directoryModes, CancellationToken cancellationToken)
    {
        bool isDirectory = entry.EntryType == TarEntryType.Directory;
        if (Exists(target) && !(isDirectory && Directory.Exists(target) && new FileInfo(target).LinkTarget is null))
            Remove(target);

        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                Directory.CreateDirectory(target);
                FileSystemCalls.SetOwner(target, entry.Uid, entry.Gid);
                directoryModes.Add((target, entry));
                return;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                await using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                {
                    if (entry.DataStream is { } data) await data.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                }
                break;
            case TarEntryType.SymbolicLink:
                File.CreateSymbolicLink(target, entry.LinkName);
                FileSystemCalls.SetOwner(target, entry.Uid, entry.Gid);
                return;
            case TarEntryType.HardLink:
                if (Normalize(entry.LinkName) is not { } linkRel)
                    throw new InvalidDataException($"hard link '{entry.Name}' points outside the image: '{entry.LinkName}'");
                var existing = Resolve(linkRel, followLast: false, createParents: false);
                FileSystemCalls.HardLink(existing, target);
                return;
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                var posix = (PosixTarEntry)entry;
                var kind = entry.EntryType switch { TarEntryType.CharacterDevice => 'c', TarEntryType.BlockDevice => 'b', _ => 'p' };
                FileSystemCalls.MakeNode(target, kind, (int)entry.Mode, posix.DeviceMajor, posix.DeviceMinor);
                if (!Exists(target)) return;
                break;
            default:
                // Extended headers are folded into entries by TarReader; anything else (sparse, volume labels) is skipped.
                return;
        }
        FileSystemCalls.SetOwner(target, entry.Uid, entry.Gid);
        FileSystemCalls.SetMode(target, (int)entry.Mode);
        File.SetLastWriteTimeUtc(target, entry.ModificationTime.UtcDateTime);
    }

    /// <summary>A tar member name as a clean relative path, or null for the root itself.</summary>
    /// <exception cref="InvalidDataException">The name climbs out of the root with <c>..</c>.</exception>
    internal static string? Normalize(string name)
    {
        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == "..") throw new InvalidDataException($"layer entry '{name}' contains '..'");
            parts.Add(part);
        }
        return parts.Count == 0 ? null : string.Join('/', parts);
    }

    /// <summary>
    /// Resolves a root-relative path as if the root were <c>/</c>: symlinks (absolute or relative) and <c>..</c>
    /// never leave it. Missing intermediate directories are created when asked.
    /// </summary>
    internal string Resolve(string relative, bool followLast, bool createParents)
    {
        var pending = new Stack<string>(relative.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var parts = new List<string>();
        int hops = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".") continue;
            if (part == "..")
            {
                if (parts.Count > 0) parts.RemoveAt(parts.Count - 1);
                continue;
            }
            var candidate = Join(parts, part);
            bool last = pending.Count == 0;
            if ((!last || followLast) && new FileInfo(candidate).LinkTarget is { } link)
            {
                if (++hops > MaxSymlinkHops) throw new InvalidDataException($"too many symlink levels resolving '{relative}'");
                if (link.StartsWith('/')) parts.Clear();
                foreach (var p in link.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse()) pending.Push(p);
                continue;
            }
            if (!last && createParents && !Exists(candidate)) Directory.CreateDirectory(candidate);
            parts.Add(part);
        }
        var resolved = parts.Count == 0 ? _root : Join(parts[..^1], parts[^1]);
        // Resolving a parent directory: it must exist (a dangling symlink's target is created inside the root).
        if (createParents && followLast && !Exists(resolved)) Directory.CreateDirectory(resolved);
        return resolved;
    }

    private string Join(List<string> parts, string last) =>
        parts.Count == 0 ? _root + "/" + last : _root + "/" + string.Join('/', parts) + "/" + last;

    private string Rel(string path) => Path.GetRelativePath(_root, path);

    private static bool Exists(string path) =>
        File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null;

    private static void Remove(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null || File.Exists(path)) File.Delete(path);
        else if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
    }

    private static async Task<Stream> DecompressAsync(Stream layer, CancellationToken cancellationToken)
    {
        // Compression is read from the content, not the media type: registries and archives mislabel layers.
        if (!layer.CanSeek) throw new ArgumentException("layer stream must be seekable", nameof(layer));
        var magic = new byte[4];
        int read = 0;
        while (read < magic.Length)
        {
            int n = await layer.ReadAsync(magic.AsMemory(read), cancellationToken).ConfigureAwait(false);
            if (n == 0) break;
            read += n;
        }
        layer.Seek(0, SeekOrigin.Begin);
        if (read >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return new GZipStream(new BufferedStream(layer, 1 << 16), CompressionMode.Decompress);
        if (read >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
            throw new NotSupportedException("zstd-compressed layers are not supported");
        return layer;
    }
}
