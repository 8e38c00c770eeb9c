using System.Text;
using System.Text.Json.Nodes;
using Microsandbox.Config;
using Microsandbox.Images;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Images;

/// <summary>Manifest and index documents, platform selection, tags that move, and progress.</summary>
public sealed class ManifestTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("msb-manifest-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private static byte[] Index(params (TestImage Image, string Arch)[] entries) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["schemaVersion"] = 2,
        ["mediaType"] = OciMediaTypes.ImageIndex,
        ["manifests"] = new JsonArray(entries.Select(e => (JsonNode)new JsonObject
        {
            ["mediaType"] = OciMediaTypes.ImageManifest,
            ["digest"] = e.Image.ManifestDigest,
            ["size"] = e.Image.Manifest.Length,
            ["platform"] = new JsonObject { ["os"] = "linux", ["architecture"] = e.Arch },
        }).ToArray()),
    }.ToJsonString());

    [Fact]
    public void Docker_and_oci_documents_parse_alike()
    {
        var digest = "sha256:" + new string('b', 64);
        var docker = $$$"""{"schemaVersion":2,"mediaType":"{{{OciMediaTypes.DockerManifest}}}","config":{"mediaType":"{{{OciMediaTypes.DockerConfig}}}","digest":"{{{digest}}}","size":7},"layers":[{"mediaType":"{{{OciMediaTypes.DockerLayerGzip}}}","digest":"{{{digest}}}","size":9}]}""";
        var m = OciManifest.Parse(Encoding.UTF8.GetBytes(docker));
        Assert.False(m.IsIndex);
        Assert.Equal(digest, m.Config!.Digest);
        Assert.Equal(9, Assert.Single(m.Layers).Size);
        var list = $$$"""{"schemaVersion":2,"manifests":[{"mediaType":"{{{OciMediaTypes.DockerManifest}}}","digest":"{{{digest}}}","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}""";
        var index = OciManifest.Parse(Encoding.UTF8.GetBytes(list), OciMediaTypes.DockerManifestList);
        Assert.True(index.IsIndex);
        Assert.Null(index.SelectPlatform());
        Assert.Equal("v8", index.SelectPlatform("linux", "arm64")!.Variant);
        Assert.Throws<FormatException>(() => OciManifest.Parse("""{"schemaVersion":1,"fsLayers":[]}"""u8));
        Assert.Throws<FormatException>(() => OciManifest.Parse("""{"config":{"digest":"md5:00","size":1}}"""u8));
    }

    [Fact]
    public async Task An_index_resolves_to_its_linux_amd64_image()
    {
        await using var registry = await LocalRegistry.StartAsync();
        var amd64 = TestImage.Create([TestImage.BusyboxLayer()], cmd: ["/bin/echo", "amd64"]);
        var arm64 = TestImage.Create([[TestImage.FileEntry("arch", "arm64")]], cmd: ["/bin/echo", "arm64"]);
        await registry.PushAsync("multiarch:amd64", amd64);
        await registry.PushAsync("multiarch:arm64", arm64);
        var index = Index((arm64, "arm64"), (amd64, "amd64"));
        var reference = ImageReference.Parse($"{registry.Host}/multiarch:both");
        using (var client = new RegistryClient())
            await client.PushManifestAsync(reference, "both", index, OciMediaTypes.ImageIndex, Ct);

        var pulled = await new ImagePuller(new ImageCache(_home)).PullAsync(reference.Original, cancellationToken: Ct);
        Assert.Equal(amd64.ManifestDigest, pulled.Image.ManifestDigest);
        Assert.Equal(["/bin/echo", "amd64"], pulled.Config.Cmd);
        Assert.Equal(0, await registry.BlobGetsAsync(Digest.Of(arm64.Layers[0])));

        // By the index's digest too, and then from the cache.
        var byDigest = await new ImagePuller(new ImageCache(_home)).PullAsync($"{registry.Host}/multiarch@{Digest.Of(index)}", cancellationToken: Ct);
        Assert.Equal(amd64.ManifestDigest, byDigest.Image.ManifestDigest);
        var again = await new ImagePuller(new ImageCache(_home)).PullAsync($"{registry.Host}/multiarch@{Digest.Of(index)}", cancellationToken: Ct);
        Assert.True(again.FromCache);

        var armOnly = Index((arm64, "arm64"));
        using (var client = new RegistryClient())
            await client.PushManifestAsync(reference, "armonly", armOnly, OciMediaTypes.ImageIndex, Ct);
        var e = await Assert.ThrowsAsync<ImagePullException>(() => new ImagePuller(new ImageCache(_home)).PullAsync($"{registry.Host}/multiarch:armonly", cancellationToken: Ct));
        Assert.Contains("no linux/amd64 manifest (platforms: linux/arm64)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IfMissing_keeps_the_cached_image_when_a_tag_moves_and_Always_follows_it()
    {
        await using var registry = await LocalRegistry.StartAsync();
        // One busybox layer blob shared by both versions (tar headers carry timestamps, so rebuilding would differ).
        var busybox = TestImage.Layer(TestImage.BusyboxLayer());
        var v1 = TestImage.FromLayerBlobs([busybox], cmd: ["/bin/echo", "v1"]);
        var v2 = TestImage.FromLayerBlobs([busybox, TestImage.Layer([TestImage.FileEntry("v2", "2")])], cmd: ["/bin/echo", "v2"]);
        var reference = await registry.PushAsync("moving:latest", v1);
        var progress = new List<PullProgress>();
        var first = await new ImagePuller(new ImageCache(_home)).PullAsync(reference, new PullOptions { Progress = new SyncProgress(progress) }, Ct);
        Assert.Equal(v1.ManifestDigest, first.Image.ManifestDigest);
        var last = progress.Where(p => p.Digest == Digest.Of(v1.Layers[0])).MaxBy(p => p.BytesDone)!;
        Assert.Equal(v1.Layers[0].Length, last.BytesDone);
        Assert.False(last.Cached);

        await registry.PushAsync("moving:latest", v2);
        var cached = await new ImagePuller(new ImageCache(_home)).PullAsync(reference, new PullOptions { Policy = PullPolicy.IfMissing }, Ct);
        Assert.Equal(v1.ManifestDigest, cached.Image.ManifestDigest);
        var fresh = await new ImagePuller(new ImageCache(_home)).PullAsync(reference, new PullOptions { Policy = PullPolicy.Always }, Ct);
        Assert.Equal(v2.ManifestDigest, fresh.Image.ManifestDigest);
        Assert.Equal(1, fresh.LayersDownloaded); // the shared busybox layer was reused
        Assert.Equal(2, new ImageCache(_home).ListImages().Count);
    }

    /// <summary>Progress that records synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(List<PullProgress> sink) : IProgress<PullProgress>
    {
        public void Report(PullProgress value)
        {
            lock (sink) sink.Add(value);
        }
    }
}
