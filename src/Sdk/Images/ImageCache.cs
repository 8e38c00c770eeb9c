using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsandbox.State;

namespace Microsandbox.Images;

/// <summary>
/// The content-addressed image cache under the state directory, shared by every process using it:
/// <c>cache/oci/blobs/sha256/HEX</c> (manifests, configs, layers), <c>refs/</c> (reference → manifest digest),
/// <c>images/HEX.json</c> (one record per pulled image), <c>rootfs/</c> (assembled root disks) and <c>locks/</c>.
/// Files appear only complete (written aside, then renamed), and writers of the same blob or root disk serialise on
/// a <c>flock</c>, so parallel pulls of one image download it once and never see a half-written file.
/// </summary>
public sealed class ImageCache
{
    /// <summary>Opens (creating as needed) the cache under <paramref name="homeRoot"/>/cache/oci.</summary>
    public ImageCache(string homeRoot)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(homeRoot);
        Root = Path.Combine(Path.GetFullPath(homeRoot), "cache", "oci");
        foreach (var dir in new[] { BlobDirectory, RefsDirectory, ImagesDirectory, RootfsDirectory, LocksDirectory, TempDirectory })
            Directory.CreateDirectory(dir);
    }

    /// <summary>The cache directory.</summary>
    public string Root { get; }

    internal string BlobDirectory => Path.Combine(Root, "blobs", "sha256");
    internal string RefsDirectory => Path.Combine(Root, "refs");
    internal string ImagesDirectory => Path.Combine(Root, "images");
    internal string RootfsDirectory => Path.Combine(Root, "rootfs");
    internal string LocksDirectory => Path.Combine(Root, "locks");
    internal string TempDirectory => Path.Combine(Root, "tmp");

    /// <summary>Where a blob lives (whether or not it is there yet).</summary>
    public string BlobPath(string digest) => Path.Combine(BlobDirectory, Digest.Hex(digest));

    /// <summary>Whether the blob is cached.</summary>
    public bool HasBlob(string digest) => File.Exists(BlobPath(digest));

    /// <summary>Stores bytes as a blob (atomic; a no-op when present) and returns its digest.</summary>
    public string PutBlob(ReadOnlySpan<byte> content)
    {
        var digest = Digest.Of(content);
        var path = BlobPath(digest);
        if (!File.Exists(path)) WriteAtomically(path, content);
        return digest;
    }

    /// <summary>Reads a cached blob, checking its digest.</summary>
    /// <exception cref="InvalidDataException">The cached file does not match its digest (it is deleted).</exception>
    public byte[] ReadBlob(string digest)
    {
        var path = BlobPath(digest);
        var bytes = File.ReadAllBytes(path);
        if (Digest.Of(bytes) != digest)
        {
            File.Delete(path);
            throw new InvalidDataException($"cached blob {digest} is corrupt and was removed; pull again");
        }
        return bytes;
    }

    /// <summary>Takes the exclusive lock <c>locks/NAME.lock</c>, waiting for other processes.</summary>
    internal Task<FileLock> LockAsync(string name, CancellationToken cancellationToken) =>
        FileLock.AcquireAsync(Path.Combine(LocksDirectory, name + ".lock"), cancellationToken);

    /// <summary>The manifest digest a reference resolved to when it was last pulled, or null.</summary>
    public string? ResolveReference(ImageReference reference)
    {
        var path = RefPath(reference);
        if (!File.Exists(path)) return null;
        var text = File.ReadAllText(path).Trim();
        return Digest.IsValid(text) ? text : null;
    }

    /// <summary>Records what a reference resolved to and the image it names.</summary>
    internal void Record(ImageReference reference, CachedImage image)
    {
        WriteAtomically(RefPath(reference), Encoding.UTF8.GetBytes(image.ManifestDigest + "\n"));
        var path = Path.Combine(ImagesDirectory, Digest.Hex(image.ManifestDigest) + ".json");
        var references = new SortedSet<string>(StringComparer.Ordinal) { reference.ToString() };
        if (ReadImage(path) is { } previous) references.UnionWith(previous.References);
        WriteAtomically(path, JsonSerializer.SerializeToUtf8Bytes(image with { References = [.. references] }, CachedImageJson.Default.CachedImage));
    }

    /// <summary>
    /// Forgets an image: every reference that still resolves to it and its record go; its blobs stay (other images
    /// may share them) until the cache is cleaned.
    /// </summary>
    public void Forget(CachedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        foreach (var text in image.References)
        {
            if (ImageReference.TryParse(text, out var reference, out _) && ResolveReference(reference) == image.ManifestDigest)
                File.Delete(RefPath(reference));
        }
        File.Delete(Path.Combine(ImagesDirectory, Digest.Hex(image.ManifestDigest) + ".json"));
    }

    /// <summary>The record of a pulled image by manifest digest, or null.</summary>
    public CachedImage? GetImage(string manifestDigest) =>
        ReadImage(Path.Combine(ImagesDirectory, Digest.Hex(manifestDigest) + ".json"));

    /// <summary>Every image pulled into this cache, newest first.</summary>
    public IReadOnlyList<CachedImage> ListImages() =>
        [.. Directory.EnumerateFiles(ImagesDirectory, "*.json").Select(ReadImage).OfType<CachedImage>().OrderByDescending(i => i.PulledAt)];

    /// <summary>Whether the manifest, config and every layer of an image are cached.</summary>
    public bool IsComplete(CachedImage image) =>
        HasBlob(image.ManifestDigest) && HasBlob(image.ConfigDigest) && image.Layers.All(l => HasBlob(l.Digest));

    private static CachedImage? ReadImage(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), CachedImageJson.Default.CachedImage) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private string RefPath(ImageReference reference)
    {
        // One file per normalised reference; the name is readable but every odd character is escaped.
        var name = new StringBuilder();
        foreach (var c in reference.ToString())
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : $"%{(int)c:x2}");
        return Path.Combine(RefsDirectory, name.ToString());
    }

    internal void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        var temp = Path.Combine(TempDirectory, Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(temp, content);
        File.Move(temp, path, overwrite: true);
    }
}
