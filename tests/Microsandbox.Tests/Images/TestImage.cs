using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Microsandbox.Images;

namespace Microsandbox.Tests.Images;

/// <summary>An OCI image built in memory: gzip'd tar layers, a config and a manifest, ready to push or write out.</summary>
public sealed class TestImage
{
    private TestImage(IReadOnlyList<byte[]> layers, byte[] config)
    {
        Layers = layers;
        Config = config;
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciMediaTypes.ImageManifest,
            ["config"] = Descriptor(OciMediaTypes.ImageConfig, config),
            ["layers"] = new JsonArray(layers.Select(l => (JsonNode)Descriptor(OciMediaTypes.LayerGzip, l)).ToArray()),
        };
        Manifest = Encoding.UTF8.GetBytes(manifest.ToJsonString());
    }

    public IReadOnlyList<byte[]> Layers { get; }

    public byte[] Config { get; }

    public byte[] Manifest { get; }

    public string ManifestDigest => Digest.Of(Manifest);

    public IEnumerable<byte[]> Blobs => [.. Layers, Config];

    /// <summary>Builds an image from layers (each a list of tar entries) and config fields.</summary>
    public static TestImage Create(IEnumerable<IEnumerable<TarEntry>> layers, string[]? cmd = null, string[]? env = null, string? workdir = null) =>
        FromLayerBlobs(layers.Select(Layer).ToList(), cmd, env, workdir);

    /// <summary>Builds an image from ready gzip'd tar layers and config fields.</summary>
    public static TestImage FromLayerBlobs(IReadOnlyList<byte[]> builtLayers, string[]? cmd = null, string[]? env = null, string? workdir = null)
    {
        var diffIds = builtLayers.Select(l => Digest.Of(Gunzip(l))).ToArray();
        var config = new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new JsonObject
            {
                ["Env"] = new JsonArray((env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]).Select(e => (JsonNode)e!).ToArray()),
                ["Cmd"] = cmd is null ? null : new JsonArray(cmd.Select(c => (JsonNode)c!).ToArray()),
                ["WorkingDir"] = workdir,
            },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(diffIds.Select(d => (JsonNode)d!).ToArray()) },
        };
        return new TestImage(builtLayers, Encoding.UTF8.GetBytes(config.ToJsonString()));
    }

    /// <summary>The busybox layer: the host's static busybox with a few applet links, /etc basics and standard dirs.</summary>
    public static IEnumerable<TarEntry> BusyboxLayer()
    {
        var busybox = "/bin/busybox";
        if (!File.Exists(busybox)) Assert.Skip("busybox-static is not installed (./build.sh Install)");
        yield return Dir("bin");
        yield return FileEntry("bin/busybox", File.ReadAllBytes(busybox), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        foreach (var applet in new[] { "sh", "echo", "cat", "ls", "id", "stat", "readlink", "test", "env", "pwd", "uname", "df", "uniq", "wc" })
            yield return Link($"bin/{applet}", "busybox");
        yield return Dir("etc");
        yield return FileEntry("etc/passwd", Encoding.UTF8.GetBytes("root:x:0:0:root:/root:/bin/sh\n"));
        yield return FileEntry("etc/group", Encoding.UTF8.GetBytes("root:x:0:\n"));
        foreach (var d in new[] { "root", "tmp", "proc", "sys", "dev", "run" }) yield return Dir(d);
    }

    public static TarEntry Dir(string name, UnixFileMode? mode = null) => new PaxTarEntry(TarEntryType.Directory, name + "/")
    {
        Mode = mode ?? (UnixFileMode)0x1ED, // 0755
        ModificationTime = DateTimeOffset.UnixEpoch.AddYears(50),
    };

    public static TarEntry FileEntry(string name, byte[] content, UnixFileMode? mode = null, int uid = 0, int gid = 0) => new PaxTarEntry(TarEntryType.RegularFile, name)
    {
        DataStream = new MemoryStream(content),
        Mode = mode ?? (UnixFileMode)0x1A4, // 0644
        Uid = uid,
        Gid = gid,
        ModificationTime = DateTimeOffset.UnixEpoch.AddYears(50),
    };

    public static TarEntry FileEntry(string name, string content, UnixFileMode? mode = null, int uid = 0, int gid = 0) =>
        FileEntry(name, Encoding.UTF8.GetBytes(content), mode, uid, gid);

    public static TarEntry Link(string name, string target) => new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target, Mode = (UnixFileMode)0x1FF };

    public static TarEntry HardLink(string name, string target) => new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target, Mode = (UnixFileMode)0x1A4 };

    public static TarEntry Whiteout(string path)
    {
        var dir = Path.GetDirectoryName(path);
        var name = ".wh." + Path.GetFileName(path);
        return FileEntry(string.IsNullOrEmpty(dir) ? name : dir + "/" + name, []);
    }

    public static TarEntry Opaque(string dir) => FileEntry(dir + "/.wh..wh..opq", []);

    /// <summary>A gzip'd tar of the entries.</summary>
    public static byte[] Layer(IEnumerable<TarEntry> entries)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in entries) writer.WriteEntry(entry);
        }
        return output.ToArray();
    }

    /// <summary>Writes the image as an OCI image layout directory; <paramref name="refName"/> becomes the ref.name annotation.</summary>
    public void WriteLayout(string dir, string? refName = null)
    {
        var blobs = Directory.CreateDirectory(Path.Combine(dir, "blobs", "sha256")).FullName;
        foreach (var blob in Blobs.Append(Manifest)) File.WriteAllBytes(Path.Combine(blobs, Digest.Hex(Digest.Of(blob))), blob);
        File.WriteAllText(Path.Combine(dir, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        var entry = Descriptor(OciMediaTypes.ImageManifest, Manifest);
        if (refName is not null) entry["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = refName };
        File.WriteAllText(Path.Combine(dir, "index.json"), new JsonObject { ["schemaVersion"] = 2, ["manifests"] = new JsonArray(entry) }.ToJsonString());
    }

    /// <summary>Writes a tar (gzip'd when <paramref name="gzip"/>) of every file under <paramref name="dir"/>.</summary>
    public static void TarDirectory(string dir, string tarPath, bool gzip)
    {
        using var file = File.Create(tarPath);
        using Stream output = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        TarFile.CreateFromDirectory(dir, output, includeBaseDirectory: false);
    }

    /// <summary>Writes the image as a classic <c>docker save</c> archive (uncompressed layer tars, manifest.json).</summary>
    public void WriteDockerSave(string tarPath, string repoTag)
    {
        var dir = Directory.CreateTempSubdirectory("msb-save-").FullName;
        try
        {
            var layerPaths = new JsonArray();
            foreach (var layer in Layers)
            {
                var raw = Gunzip(layer);
                var id = Digest.Hex(Digest.Of(raw));
                Directory.CreateDirectory(Path.Combine(dir, id));
                File.WriteAllBytes(Path.Combine(dir, id, "layer.tar"), raw);
                layerPaths.Add((JsonNode)$"{id}/layer.tar");
            }
            var configName = Digest.Hex(Digest.Of(Config)) + ".json";
            File.WriteAllBytes(Path.Combine(dir, configName), Config);
            var manifest = new JsonArray(new JsonObject { ["Config"] = configName, ["RepoTags"] = new JsonArray((JsonNode)repoTag), ["Layers"] = layerPaths });
            File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());
            TarDirectory(dir, tarPath, gzip: false);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static byte[] Gunzip(byte[] gz)
    {
        using var input = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static JsonObject Descriptor(string mediaType, byte[] content) => new()
    {
        ["mediaType"] = mediaType,
        ["digest"] = Digest.Of(content),
        ["size"] = content.Length,
    };

    /// <summary>The multi-layer image: busybox base, then files, then whiteouts, an opaque directory and links.</summary>
    public static TestImage MultiLayer() => Create(
        [
            BusyboxLayer(),
            [
                Dir("data"),
                FileEntry("data/removed.txt", "lower\n"),
                Dir("data/opaque"),
                FileEntry("data/opaque/old.txt", "old\n"),
                FileEntry("data/kept.txt", "kept\n"),
                FileEntry("data/owned.txt", "owned\n", (UnixFileMode)0x9ED /* 04755 */, uid: 1234, gid: 4321),
            ],
            [
                Whiteout("data/removed.txt"),
                Opaque("data/opaque"),
                FileEntry("data/opaque/new.txt", "new\n"),
                Link("data/link", "/data/kept.txt"),
                HardLink("data/hard.txt", "data/kept.txt"),
            ],
        ],
        cmd: ["/bin/sh", "-c", "cat /data/link; ls /data/opaque"]);
}
