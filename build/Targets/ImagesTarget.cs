using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsandbox.Build.Targets;

/// <summary>
/// Builds the service images under <c>images/</c> (images/README.md) into OCI image layouts under
/// <c>artifacts/images/NAME</c>: <c>mmdebstrap</c> makes a Debian bookworm minbase tree with the image's packages,
/// the layer drops the image's <c>exclude</c> paths and adds its <c>files/</c>, and the config comes from
/// <c>image.json</c>. An image is rebuilt only when its directory changed.
/// </summary>
internal sealed class ImagesTarget : BuildTarget
{
    private const string StampFileName = ".inputs.sha256";
    // Bumped when the way images are assembled changes, so every image is rebuilt.
    private const string RecipeVersion = "1";

    public override string Name => "Images";

    public override string Description => "build the service images under images/ (Debian packages, mmdebstrap) into artifacts/images";

    public override IReadOnlyList<string> DependsOn => ["Install"];

    public override async Task RunAsync(BuildContext context, CancellationToken cancellationToken)
    {
        var sources = Path.Combine(context.RepoRoot, "images");
        foreach (var dir in Directory.GetDirectories(sources).Order(StringComparer.Ordinal))
        {
            if (!File.Exists(Path.Combine(dir, "image.json"))) continue;
            await BuildImageAsync(context, dir, Path.Combine(context.ImagesDir, Path.GetFileName(dir)), cancellationToken);
        }
    }

    private static async Task BuildImageAsync(BuildContext context, string source, string output, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(source);
        var inputs = HashInputs(source);
        var stamp = Path.Combine(output, StampFileName);
        if (File.Exists(stamp) && (await File.ReadAllTextAsync(stamp, cancellationToken)).Trim() == inputs)
        {
            BuildLog.Info($"image {name} is up to date ({Path.GetRelativePath(context.RepoRoot, output)})");
            return;
        }
        if (!CommandRunner.IsOnPath("mmdebstrap"))
            throw new BuildFailedException("mmdebstrap is not installed: run ./build.sh Install (or apt-get install mmdebstrap)");

        var definition = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(source, "image.json"), cancellationToken))!.AsObject();
        var packages = definition["packages"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        var exclude = definition["exclude"]?.AsArray().Select(p => p!.GetValue<string>()).ToList() ?? [];
        var tag = definition["tag"]!.GetValue<string>();

        var staging = output + ".staging";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(Path.Combine(staging, "blobs", "sha256"));
        var baseTar = Path.Combine(staging, "base.tar");
        await context.Runner.RunAsync("mmdebstrap",
        [
            "--variant=minbase", "--include=" + string.Join(',', packages),
            // Documentation and translations are not part of a service image; licences stay.
            "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-include=/usr/share/doc/*/copyright",
            "--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/locale/*",
            "bookworm", baseTar,
        ], cancellationToken);

        var layer = Path.Combine(staging, "layer.tar.gz");
        var (diffId, layerSize) = await WriteLayerAsync(baseTar, Path.Combine(source, "files"), exclude, layer, cancellationToken);
        File.Delete(baseTar);
        var layerDigest = await StoreBlobAsync(staging, layer, cancellationToken);

        var config = new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = definition["config"]!.DeepClone(),
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray("sha256:" + diffId) },
            ["history"] = new JsonArray(new JsonObject { ["created_by"] = $"mmdebstrap --variant=minbase --include={string.Join(',', packages)} bookworm; images/{name}/files" }),
        };
        var (configDigest, configSize) = await WriteJsonBlobAsync(staging, config, cancellationToken);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = new JsonObject { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = "sha256:" + configDigest, ["size"] = configSize },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip", ["digest"] = "sha256:" + layerDigest, ["size"] = layerSize }),
        };
        var (manifestDigest, manifestSize) = await WriteJsonBlobAsync(staging, manifest, cancellationToken);
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new JsonArray(new JsonObject
            {
                ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
                ["digest"] = "sha256:" + manifestDigest,
                ["size"] = manifestSize,
                ["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag },
            }),
        };
        await File.WriteAllTextAsync(Path.Combine(staging, "index.json"), index.ToJsonString(), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(staging, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(staging, StampFileName), inputs + "\n", cancellationToken);
        if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        Directory.Move(staging, output);
        BuildLog.Info($"image {name}:{tag} in {Path.GetRelativePath(context.RepoRoot, output)} ({layerSize / (1024 * 1024)} MiB layer)");
    }

    /// <summary>
    /// Copies the base tree's entries except the excluded paths, then adds the overlay files (owner root, mode from
    /// the file); gzip-compresses on the way. Returns the uncompressed digest (the diff id) and the compressed size.
    /// </summary>
    private static async Task<(string DiffId, long Size)> WriteLayerAsync(string baseTar, string overlay, IReadOnlyList<string> exclude, string layerPath, CancellationToken cancellationToken)
    {
        using var diffHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var file = File.Create(layerPath))
        await using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
        await using (var hashing = new HashingStream(gzip, diffHash))
        await using (var writer = new TarWriter(hashing, TarEntryFormat.Pax, leaveOpen: true))
        {
            await using (var input = File.OpenRead(baseTar))
            await using (var reader = new TarReader(input))
            {
                while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
                {
                    var path = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                    if (exclude.Any(prefix => path.StartsWith(prefix, StringComparison.Ordinal))) continue;
                    await writer.WriteEntryAsync(entry, cancellationToken);
                }
            }
            if (Directory.Exists(overlay))
            {
                foreach (var item in Directory.EnumerateFileSystemEntries(overlay, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    var relative = Path.GetRelativePath(overlay, item).Replace(Path.DirectorySeparatorChar, '/');
                    if (Path.GetFileName(item) == ".keep") continue; // keeps an empty directory in git
                    bool isDir = Directory.Exists(item);
                    var entry = new PaxTarEntry(isDir ? TarEntryType.Directory : TarEntryType.RegularFile, isDir ? relative + "/" : relative)
                    {
                        Mode = File.GetUnixFileMode(item),
                        Uid = 0,
                        Gid = 0,
                        ModificationTime = DateTimeOffset.UnixEpoch,
                    };
                    if (!isDir) entry.DataStream = File.OpenRead(item);
                    await writer.WriteEntryAsync(entry, cancellationToken);
                    entry.DataStream?.Dispose();
                }
            }
        }
        return (Convert.ToHexStringLower(diffHash.GetHashAndReset()), new FileInfo(layerPath).Length);
    }

    private static async Task<string> StoreBlobAsync(string layout, string file, CancellationToken cancellationToken)
    {
        string digest;
        await using (var stream = File.OpenRead(file))
            digest = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        File.Move(file, Path.Combine(layout, "blobs", "sha256", digest));
        return digest;
    }

    private static async Task<(string Digest, long Size)> WriteJsonBlobAsync(string layout, JsonNode node, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(node.ToJsonString());
        var digest = Convert.ToHexStringLower(SHA256.HashData(bytes));
        await File.WriteAllBytesAsync(Path.Combine(layout, "blobs", "sha256", digest), bytes, cancellationToken);
        return (digest, bytes.Length);
    }

    /// <summary>The image directory's content (paths, modes, bytes) and the recipe version, hashed.</summary>
    private static string HashInputs(string source)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes("recipe " + RecipeVersion + "\n"));
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{Path.GetRelativePath(source, file)} {(int)File.GetUnixFileMode(file)}\n"));
            hash.AppendData(File.ReadAllBytes(file));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Passes writes through while hashing them.</summary>
    private sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            hash.AppendData(buffer, offset, count);
            inner.Write(buffer, offset, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            hash.AppendData(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
