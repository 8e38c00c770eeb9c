using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsandbox.Config;

namespace Microsandbox.Images;

/// <summary>
/// Loads images from local sources into an <see cref="ImageCache"/>: an OCI image layout directory
/// (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/</c>), a tar of one (an OCI archive), or a <c>docker save</c>
/// archive (<c>manifest.json</c> with <c>Config</c>, <c>RepoTags</c>, <c>Layers</c>). Every blob is verified
/// against its digest while it is copied in; the tags the source names are recorded so they resolve offline later.
/// </summary>
public static class LocalImageSource
{
    private const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    /// <summary>Whether an image "reference" is really a local path (absolute, or starting with <c>./</c> or <c>../</c>).</summary>
    public static bool IsLocalPath(string reference) =>
        reference.StartsWith('/') || reference.StartsWith("./", StringComparison.Ordinal) || reference.StartsWith("../", StringComparison.Ordinal);

    /// <summary>Loads every image the source holds; returns them in the source's order.</summary>
    /// <exception cref="ImagePullException">The path is missing or is not an image layout or archive.</exception>
    public static async Task<IReadOnlyList<PullResult>> LoadAsync(string path, ImageCache cache, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(cache);
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full)) return await LoadDirectoryAsync(path, full, cache, cancellationToken).ConfigureAwait(false);
        if (!File.Exists(full)) throw new ImagePullException(path, $"no such file or directory: {full}");

        var scratch = Path.Combine(cache.TempDirectory, "load-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            await using (var file = File.OpenRead(full))
            {
                var magic = new byte[2];
                var n = await file.ReadAsync(magic, cancellationToken).ConfigureAwait(false);
                file.Seek(0, SeekOrigin.Begin);
                Stream input = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
                try
                {
                    await TarFile.ExtractToDirectoryAsync(input, scratch, overwriteFiles: true, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                {
                    throw new ImagePullException(path, $"not a readable image archive: {e.Message}", e);
                }
            }
            return await LoadDirectoryAsync(path, scratch, cache, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException) { }
        }
    }

    private static async Task<IReadOnlyList<PullResult>> LoadDirectoryAsync(string source, string dir, ImageCache cache, CancellationToken cancellationToken)
    {
        // Newer docker save archives are OCI layouts as well; the layout is the more precise description.
        if (File.Exists(Path.Combine(dir, "oci-layout")) && File.Exists(Path.Combine(dir, "index.json")))
            return await LoadLayoutAsync(source, dir, cache, cancellationToken).ConfigureAwait(false);
        if (File.Exists(Path.Combine(dir, "manifest.json")))
            return await LoadDockerSaveAsync(source, dir, cache, cancellationToken).ConfigureAwait(false);
        throw new ImagePullException(source, "not an OCI image layout (no oci-layout and index.json) nor a docker save archive (no manifest.json)");
    }

    private static async Task<IReadOnlyList<PullResult>> LoadLayoutAsync(string source, string dir, ImageCache cache, CancellationToken cancellationToken)
    {
        var index = OciManifest.Parse(await File.ReadAllBytesAsync(Path.Combine(dir, "index.json"), cancellationToken).ConfigureAwait(false), OciMediaTypes.ImageIndex);
        var names = ReadRefNames(await File.ReadAllBytesAsync(Path.Combine(dir, "index.json"), cancellationToken).ConfigureAwait(false));
        var results = new List<PullResult>();
        foreach (var entry in index.Manifests)
        {
            var digest = entry.Digest;
            var bytes = await CopyBlobAsync(source, dir, digest, cache, cancellationToken).ConfigureAwait(false);
            var manifest = OciManifest.Parse(bytes, entry.MediaType);
            if (manifest.IsIndex)
            {
                var platform = manifest.SelectPlatform();
                if (platform is null) continue;
                digest = platform.Digest;
                manifest = OciManifest.Parse(await CopyBlobAsync(source, dir, digest, cache, cancellationToken).ConfigureAwait(false), platform.MediaType);
            }
            else if (entry.Os is not null && (entry.Os != "linux" || entry.Architecture != "amd64"))
            {
                continue;
            }
            var configBytes = await CopyBlobAsync(source, dir, manifest.Config!.Digest, cache, cancellationToken).ConfigureAwait(false);
            foreach (var layer in manifest.Layers) await CopyBlobAsync(source, dir, layer.Digest, cache, cancellationToken).ConfigureAwait(false);
            var references = names.TryGetValue(entry.Digest, out var n) ? n : [];
            results.Add(Record(source, cache, digest, manifest.Config.Digest, [.. manifest.Layers.Select(l => new CachedLayer(l.Digest, l.Size, l.MediaType))], references, configBytes));
        }
        if (results.Count == 0) throw new ImagePullException(source, "the image layout holds no linux/amd64 image");
        return results;
    }

    private static async Task<IReadOnlyList<PullResult>> LoadDockerSaveAsync(string source, string dir, ImageCache cache, CancellationToken cancellationToken)
    {
        JsonArray entries;
        try
        {
            entries = JsonNode.Parse(await File.ReadAllBytesAsync(Path.Combine(dir, "manifest.json"), cancellationToken).ConfigureAwait(false))!.AsArray();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException)
        {
            throw new ImagePullException(source, $"malformed manifest.json: {e.Message}", e);
        }
        var results = new List<PullResult>();
        foreach (var entry in entries)
        {
            var configPath = entry?["Config"]?.GetValue<string>() ?? throw new ImagePullException(source, "manifest.json entry without Config");
            var configBytes = await File.ReadAllBytesAsync(Inside(source, dir, configPath), cancellationToken).ConfigureAwait(false);
            var configDigest = cache.PutBlob(configBytes);
            var layers = new List<CachedLayer>();
            foreach (var layer in entry["Layers"]?.AsArray() ?? [])
            {
                var layerPath = Inside(source, dir, layer!.GetValue<string>());
                var digest = await Digest.OfFileAsync(layerPath, cancellationToken).ConfigureAwait(false);
                if (!cache.HasBlob(digest))
                {
                    var temp = Path.Combine(cache.TempDirectory, Guid.NewGuid().ToString("N"));
                    File.Copy(layerPath, temp);
                    File.Move(temp, cache.BlobPath(digest), overwrite: true);
                }
                layers.Add(new CachedLayer(digest, new FileInfo(layerPath).Length, OciMediaTypes.Layer));
            }
            // docker save has no manifest blob: write the OCI manifest this image would have.
            var manifest = new JsonObject
            {
                ["schemaVersion"] = 2,
                ["mediaType"] = OciMediaTypes.ImageManifest,
                ["config"] = new JsonObject { ["mediaType"] = OciMediaTypes.ImageConfig, ["digest"] = configDigest, ["size"] = configBytes.Length },
                ["layers"] = new JsonArray([.. layers.Select(l => (JsonNode)new JsonObject { ["mediaType"] = l.MediaType, ["digest"] = l.Digest, ["size"] = l.Size })]),
            };
            var manifestDigest = cache.PutBlob(Encoding.UTF8.GetBytes(manifest.ToJsonString()));
            var tags = (entry["RepoTags"]?.AsArray() ?? []).Select(t => t!.GetValue<string>()).ToList();
            results.Add(Record(source, cache, manifestDigest, configDigest, layers, tags, configBytes));
        }
        if (results.Count == 0) throw new ImagePullException(source, "the docker save archive holds no image");
        return results;
    }

    private static PullResult Record(string source, ImageCache cache, string manifestDigest, string configDigest, IReadOnlyList<CachedLayer> layers, IReadOnlyList<string> names, byte[] config)
    {
        var image = new CachedImage { ManifestDigest = manifestDigest, ConfigDigest = configDigest, Layers = layers, PulledAt = DateTimeOffset.UtcNow };
        var references = names.Select(n => ImageReference.TryParse(n, out var r, out _) ? r : null).OfType<ImageReference>().ToList();
        foreach (var reference in references) cache.Record(reference, image);
        if (references.Count == 0)
        {
            // Unnamed images are still listed, by digest.
            cache.WriteAtomically(Path.Combine(cache.ImagesDirectory, Digest.Hex(manifestDigest) + ".json"),
                JsonSerializer.SerializeToUtf8Bytes(image, CachedImageJson.Default.CachedImage));
        }
        var name = references.FirstOrDefault() ?? new ImageReference { Registry = "local", Repository = "image", Digest = manifestDigest, Original = source };
        return new PullResult { Reference = name, Image = cache.GetImage(manifestDigest) ?? image, Config = ImageConfig.FromOciConfigJson(config), FromCache = true };
    }

    private static async Task<byte[]> CopyBlobAsync(string source, string dir, string digest, ImageCache cache, CancellationToken cancellationToken)
    {
        if (!Digest.IsValid(digest)) throw new ImagePullException(source, $"unsupported digest '{digest}'");
        var from = Path.Combine(dir, "blobs", "sha256", Digest.Hex(digest));
        if (!File.Exists(from)) throw new ImagePullException(source, $"blob {digest} is missing from the layout");
        var actual = await Digest.OfFileAsync(from, cancellationToken).ConfigureAwait(false);
        if (actual != digest) throw new ImagePullException(source, $"blob digest mismatch: {from} should be {digest} but is {actual}");
        if (!cache.HasBlob(digest))
        {
            var temp = Path.Combine(cache.TempDirectory, Guid.NewGuid().ToString("N"));
            File.Copy(from, temp);
            File.Move(temp, cache.BlobPath(digest), overwrite: true);
        }
        var info = new FileInfo(from);
        return info.Length <= 4 * 1024 * 1024 ? await File.ReadAllBytesAsync(from, cancellationToken).ConfigureAwait(false) : [];
    }

    private static Dictionary<string, List<string>> ReadRefNames(byte[] indexJson)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(indexJson);
        if (!doc.RootElement.TryGetProperty("manifests", out var manifests)) return result;
        foreach (var m in manifests.EnumerateArray())
        {
            if (m.TryGetProperty("annotations", out var a) && a.TryGetProperty(RefNameAnnotation, out var name) && name.GetString() is { Length: > 0 } n
                && m.TryGetProperty("digest", out var d) && d.GetString() is { } digest)
            {
                if (!result.TryGetValue(digest, out var list)) result[digest] = list = [];
                // Only full references are recorded; a bare tag ("1.0") means nothing outside its layout.
                if (n.Contains(':', StringComparison.Ordinal) || n.Contains('/', StringComparison.Ordinal)) list.Add(n);
            }
        }
        return result;
    }

    private static string Inside(string source, string dir, string relative)
    {
        var path = Path.GetFullPath(Path.Combine(dir, relative));
        if (!path.StartsWith(Path.GetFullPath(dir) + "/", StringComparison.Ordinal))
            throw new ImagePullException(source, $"archive entry '{relative}' points outside the archive");
        return path;
    }
}
