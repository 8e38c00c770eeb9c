using System.Diagnostics;
using System.Text.Json;
using Microsandbox.Config;
using Microsandbox.Images;
using Microsandbox.Runtime;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Images;

/// <summary>Pulls from a real registry on 127.0.0.1 holding images these tests build and push.</summary>
public sealed class RegistryPullTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("msb-pull-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private ImagePuller Puller() => new(new ImageCache(_home));

    [Fact]
    public async Task Pull_stores_every_blob_and_a_second_pull_is_served_from_the_cache()
    {
        await using var registry = await LocalRegistry.StartAsync();
        var image = TestImage.MultiLayer();
        var reference = await registry.PushAsync("multi:1", image);
        var ct = TestContext.Current.CancellationToken;

        var first = await Puller().PullAsync(reference, cancellationToken: ct);
        Assert.False(first.FromCache);
        Assert.Equal(image.ManifestDigest, first.Image.ManifestDigest);
        Assert.Equal(3, first.LayersDownloaded);
        Assert.Equal(["/bin/sh", "-c", "cat /data/link; ls /data/opaque"], first.Config.Cmd);
        var cache = new ImageCache(_home);
        Assert.True(cache.IsComplete(first.Image));
        foreach (var layer in image.Layers) Assert.Equal(layer, await File.ReadAllBytesAsync(cache.BlobPath(Digest.Of(layer)), ct));

        var gets = await Task.WhenAll(image.Layers.Select(l => registry.BlobGetsAsync(Digest.Of(l))));
        Assert.All(gets, g => Assert.Equal(1, g));
        var second = await Puller().PullAsync(reference, cancellationToken: ct);
        Assert.True(second.FromCache);
        Assert.Equal(0, second.LayersDownloaded);
        Assert.Equal(gets, await Task.WhenAll(image.Layers.Select(l => registry.BlobGetsAsync(Digest.Of(l)))));

        // Always re-resolves the tag but reuses layers it already has.
        var always = await Puller().PullAsync(reference, new PullOptions { Policy = PullPolicy.Always }, ct);
        Assert.False(always.FromCache);
        Assert.Equal(0, always.LayersDownloaded);
        Assert.Equal(image.ManifestDigest, always.Image.ManifestDigest);

        // By digest, from cache too.
        var pinned = await Puller().PullAsync($"{registry.Host}/multi@{image.ManifestDigest}", cancellationToken: ct);
        Assert.Equal(image.ManifestDigest, pinned.Image.ManifestDigest);
        Assert.Contains(cache.ListImages(), i => i.ManifestDigest == image.ManifestDigest && i.References.Contains(ImageReference.Parse(reference).ToString()));
    }

    [Fact]
    public async Task A_download_logs_how_far_each_layer_got_and_its_end()
    {
        await using var registry = await LocalRegistry.StartAsync();
        var image = TestImage.MultiLayer();
        var reference = await registry.PushAsync("progress:1", image);
        var lines = new List<string>();
        var logger = new ListLogger(lines);

        await new ImagePuller(new ImageCache(_home), logger).PullAsync(reference, cancellationToken: TestContext.Current.CancellationToken);

        foreach (var layer in image.Layers)
        {
            var shortDigest = Digest.Of(layer)[..19];
            Assert.Contains(lines, l => l.Contains($"downloading layer {shortDigest} (", StringComparison.Ordinal));
            // The end of each layer is always said, whatever the 2 s throttle let through before it.
            Assert.Contains(lines, l => l.Contains($"layer {shortDigest} ", StringComparison.Ordinal) && l.EndsWith("(100%)", StringComparison.Ordinal));
        }
    }

    private sealed class ListLogger(List<string> lines) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (lines) lines.Add(formatter(state, exception));
        }
    }

    [Fact]
    public async Task A_blob_whose_content_does_not_match_its_digest_is_rejected_and_not_cached()
    {
        await using var registry = await LocalRegistry.StartAsync();
        var image = TestImage.Create([TestImage.BusyboxLayer(), [TestImage.FileEntry("marker", "original content")]]);
        var reference = await registry.PushAsync("tampered:1", image);
        var layer = Digest.Of(image.Layers[1]);
        var stored = registry.BlobDataPath(layer);
        var bytes = await File.ReadAllBytesAsync(stored, TestContext.Current.CancellationToken);
        bytes[^5] ^= 0xFF; // same length, different content
        await File.WriteAllBytesAsync(stored, bytes, TestContext.Current.CancellationToken);

        var e = await Assert.ThrowsAsync<ImagePullException>(() => Puller().PullAsync(reference, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("digest mismatch", e.Message, StringComparison.Ordinal);
        Assert.Contains(layer, e.Message, StringComparison.Ordinal);
        var cache = new ImageCache(_home);
        Assert.False(cache.HasBlob(layer));
        Assert.False(File.Exists(cache.BlobPath(layer) + ".partial"));
        Assert.Null(cache.ResolveReference(ImageReference.Parse(reference)));
    }

    [Fact]
    public async Task A_manifest_digest_that_does_not_exist_is_a_clear_error()
    {
        await using var registry = await LocalRegistry.StartAsync();
        await registry.PushAsync("app:1", TestImage.Create([TestImage.BusyboxLayer()]));
        var wrong = "sha256:" + new string('0', 64);
        var e = await Assert.ThrowsAsync<ImagePullException>(() => Puller().PullAsync($"{registry.Host}/app@{wrong}", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains($"manifest {wrong} not found", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_tag_says_which_tag_and_repository()
    {
        await using var registry = await LocalRegistry.StartAsync();
        await registry.PushAsync("app:1", TestImage.Create([TestImage.BusyboxLayer()]));
        var e = await Assert.ThrowsAsync<ImagePullException>(() => Puller().PullAsync($"{registry.Host}/app:nope", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(404, e.StatusCode);
        Assert.Contains($"tag 'nope' not found in repository {registry.Host}/app", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Never_fails_for_an_uncached_image_without_contacting_the_registry()
    {
        var e = await Assert.ThrowsAsync<ImagePullException>(() => Puller().PullAsync("127.0.0.1:1/none:1", new PullOptions { Policy = PullPolicy.Never }, TestContext.Current.CancellationToken));
        Assert.Contains("pull policy is Never", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_auth_registry_refuses_anonymous_and_wrong_credentials_and_serves_the_right_ones()
    {
        await using var registry = await LocalRegistry.StartAsync("tester", "s3cret-pass");
        var image = TestImage.Create([TestImage.BusyboxLayer()]);
        var reference = await registry.PushAsync("private:1", image);
        var ct = TestContext.Current.CancellationToken;

        var anonymous = await Assert.ThrowsAsync<ImagePullException>(() => Puller().PullAsync(reference, cancellationToken: ct));
        Assert.Equal(401, anonymous.StatusCode);
        Assert.Contains("requires authentication", anonymous.Message, StringComparison.Ordinal);

        var wrong = await Assert.ThrowsAsync<ImagePullException>(() => Puller().PullAsync(reference, new PullOptions { Auth = RegistryAuth.Basic("tester", "nope") }, ct));
        Assert.Contains("rejected the credentials", wrong.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("nope", wrong.Message, StringComparison.Ordinal);

        var ok = await Puller().PullAsync(reference, new PullOptions { Auth = RegistryAuth.Basic("tester", "s3cret-pass") }, ct);
        Assert.Equal(image.ManifestDigest, ok.Image.ManifestDigest);
        // Credentials are never written into the cache.
        foreach (var file in Directory.EnumerateFiles(_home, "*", SearchOption.AllDirectories))
            Assert.False((await File.ReadAllBytesAsync(file, ct)).AsSpan().IndexOf("s3cret-pass"u8) >= 0, $"{file} holds the password");
    }

    [Fact]
    public async Task Two_processes_pulling_the_same_image_download_each_layer_once_and_both_succeed()
    {
        await using var registry = await LocalRegistry.StartAsync();
        var big = new byte[24 * 1024 * 1024];
        new Random(7).NextBytes(big);
        var image = TestImage.Create([TestImage.BusyboxLayer(), [TestImage.FileEntry("big.bin", big)]]);
        var reference = await registry.PushAsync("big:1", image);
        var cli = SandboxProcessLocator.Locate();
        var env = new Dictionary<string, string> { ["MSB_HOME"] = _home };

        var runs = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
            LocalRegistry.RunAsync(cli[0], [.. cli.Skip(1), "pull", reference, "--policy", "IfMissing", "--format", "json"], env)));

        var results = runs.Select(r => JsonDocument.Parse(r).RootElement).ToList();
        Assert.All(results, r => Assert.Equal(image.ManifestDigest, r.GetProperty("manifest_digest").GetString()));
        foreach (var layer in image.Layers) Assert.Equal(1, await registry.BlobGetsAsync(Digest.Of(layer)));
        Assert.Equal(image.Layers.Count, results.Sum(r => r.GetProperty("layers_downloaded").GetInt32()));
        var cache = new ImageCache(_home);
        Assert.Equal(image.Layers[1], await File.ReadAllBytesAsync(cache.BlobPath(Digest.Of(image.Layers[1])), TestContext.Current.CancellationToken));

        var listed = await LocalRegistry.RunAsync(cli[0], [.. cli.Skip(1), "images", "--format", "json"], env);
        var row = Assert.Single(JsonDocument.Parse(listed).RootElement.EnumerateArray());
        Assert.Equal(image.ManifestDigest, row.GetProperty("manifest_digest").GetString());
        Assert.True(row.GetProperty("complete").GetBoolean());
    }
}

/// <summary>Interrupted downloads resume with a range request; a bad partial file is discarded and fetched again.</summary>
public sealed class ResumeTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("msb-resume-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_partial_blob_resumes_from_where_it_stopped(bool corruptPartial)
    {
        await using var registry = await LocalRegistry.StartAsync();
        var payload = new byte[3 * 1024 * 1024];
        new Random(11).NextBytes(payload);
        var image = TestImage.Create([[TestImage.FileEntry("payload.bin", payload)]]);
        var reference = await registry.PushAsync("resume:1", image);
        var layer = image.Layers[0];
        var cache = new ImageCache(_home);
        var half = layer[..(layer.Length / 2)];
        if (corruptPartial) half[10] ^= 0xFF;
        await File.WriteAllBytesAsync(cache.BlobPath(Digest.Of(layer)) + ".partial", half, TestContext.Current.CancellationToken);

        var result = await new ImagePuller(cache).PullAsync(reference, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(1, result.LayersDownloaded);
        Assert.Equal(layer, await File.ReadAllBytesAsync(cache.BlobPath(Digest.Of(layer)), TestContext.Current.CancellationToken));
        Assert.False(File.Exists(cache.BlobPath(Digest.Of(layer)) + ".partial"));
        Assert.Equal(1, await registry.BlobGetsAsync(Digest.Of(layer), status: 206));
        Assert.Equal(corruptPartial ? 1 : 0, await registry.BlobGetsAsync(Digest.Of(layer), status: 200));
    }
}

/// <summary>A registry that delegates auth to a token service: the Bearer challenge, scope and credential flow.</summary>
public sealed class TokenAuthTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("msb-token-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Bearer_tokens_are_fetched_with_the_credentials_and_the_repository_scope()
    {
        LocalRegistry.Require();
        var registryDir = Directory.CreateDirectory(Path.Combine(_dir, "registry")).FullName;
        await using var tokens = new TokenServer("robot", "t0ken-pass", registryDir);
        await using var registry = await LocalRegistry.StartWithTokenAuthAsync(registryDir, tokens, "robot", "t0ken-pass");
        var image = TestImage.Create([TestImage.BusyboxLayer()]);
        var reference = await registry.PushAsync("team/app:1", image);
        var home = Path.Combine(_dir, "home");
        var ct = TestContext.Current.CancellationToken;

        var anonymous = await Assert.ThrowsAsync<ImagePullException>(() => new ImagePuller(new ImageCache(home)).PullAsync(reference, cancellationToken: ct));
        Assert.Contains("requires authentication", anonymous.Message, StringComparison.Ordinal);

        var pulled = await new ImagePuller(new ImageCache(home)).PullAsync(reference, new PullOptions { Auth = RegistryAuth.Basic("robot", "t0ken-pass") }, ct);
        Assert.Equal(image.ManifestDigest, pulled.Image.ManifestDigest);
        Assert.Contains("repository:team/app:pull", tokens.Scopes);
        Assert.Contains("repository:team/app:pull,push", tokens.Scopes);
    }
}

/// <summary>A cancelled pull leaves no blob and no reference behind, and the next pull resumes the partial download.</summary>
public sealed class CancelledPullTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("msb-cancel-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task Cancelling_mid_download_keeps_the_partial_for_a_resume()
    {
        await using var registry = await LocalRegistry.StartAsync();
        var payload = new byte[16 * 1024 * 1024];
        new Random(3).NextBytes(payload);
        var image = TestImage.Create([[TestImage.FileEntry("payload.bin", payload)]]);
        var reference = await registry.PushAsync("cancel:1", image);
        var layer = Digest.Of(image.Layers[0]);
        var cache = new ImageCache(_home);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var progress = new CancelAfterBytes(cts, 1024 * 1024);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new ImagePuller(cache).PullAsync(reference, new PullOptions { Progress = progress }, cts.Token));

        Assert.False(cache.HasBlob(layer));
        Assert.Null(cache.ResolveReference(ImageReference.Parse(reference)));
        var partial = new FileInfo(cache.BlobPath(layer) + ".partial");
        Assert.True(partial.Exists && partial.Length > 0 && partial.Length < image.Layers[0].Length, $"partial download kept ({(partial.Exists ? partial.Length : -1)} bytes)");

        var resumed = await new ImagePuller(cache).PullAsync(reference, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(image.ManifestDigest, resumed.Image.ManifestDigest);
        Assert.Equal(image.Layers[0], await File.ReadAllBytesAsync(cache.BlobPath(layer), TestContext.Current.CancellationToken));
        Assert.Equal(1, await registry.BlobGetsAsync(layer, status: 206));
    }

    private sealed class CancelAfterBytes(CancellationTokenSource cts, long bytes) : IProgress<PullProgress>
    {
        public void Report(PullProgress value)
        {
            if (!value.Cached && value.BytesDone >= bytes) cts.Cancel();
        }
    }
}
