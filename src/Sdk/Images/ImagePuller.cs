using System.Globalization;
using System.Diagnostics;
using Microsandbox.Config;
using Microsandbox.Spec;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsandbox.Images;

/// <summary>
/// Pulls images into an <see cref="ImageCache"/>: resolves the reference (tag → manifest, index → linux/amd64),
/// downloads missing blobs concurrently with digest verification, and honours the pull policy.
/// </summary>
public sealed class ImagePuller
{
    private readonly ImageCache _cache;
    private readonly ILogger _logger;

    /// <summary>Creates a puller over a cache.</summary>
    public ImagePuller(ImageCache cache, ILogger? logger = null)
    {
        _cache = cache ?? throw new ArgumentNullException(nameof(cache));
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Pulls <paramref name="reference"/> according to <paramref name="options"/>. A local path (absolute or
    /// <c>./</c>, <c>../</c>) is loaded as an OCI layout directory, OCI archive or <c>docker save</c> archive instead.
    /// </summary>
    /// <exception cref="InvalidConfigException">The reference is malformed.</exception>
    /// <exception cref="ImagePullException">The registry or cache could not provide the image.</exception>
    public async Task<PullResult> PullAsync(string reference, PullOptions? options = null, CancellationToken cancellationToken = default)
    {
        try
        {
            return await PullCoreAsync(reference, options, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            // A full or failing cache disk: name the cache. Blobs are verified by digest before they count, so what
            // was written so far is at worst a partial download the next pull resumes or replaces.
            throw new ImagePullException(reference ?? "", $"writing the image cache at {_cache.Root} failed: {e.Message}", e);
        }
    }

    private async Task<PullResult> PullCoreAsync(string reference, PullOptions? options, CancellationToken cancellationToken)
    {
        options ??= new PullOptions();
        ArgumentNullException.ThrowIfNull(reference);
        if (LocalImageSource.IsLocalPath(reference))
        {
            _logger.LogInformation("image {Path}: loading from the local layout or archive", reference);
            return (await LocalImageSource.LoadAsync(reference, _cache, cancellationToken).ConfigureAwait(false))[0];
        }
        var image = ImageReference.Parse(reference);
        if (options.Policy != PullPolicy.Always && Cached(image) is { } cached)
        {
            _logger.LogInformation("image {Reference}: using cached {Digest}", image, cached.ManifestDigest);
            foreach (var layer in cached.Layers) options.Progress?.Report(new PullProgress(layer.Digest, layer.Size, layer.Size, Cached: true));
            return new PullResult { Reference = image, Image = cached, Config = ImageConfig.FromOciConfigJson(_cache.ReadBlob(cached.ConfigDigest)), FromCache = true };
        }
        if (options.Policy == PullPolicy.Never)
            throw new ImagePullException(reference, "not in the local cache and the pull policy is Never; pull it first (microsandbox pull) or use PullPolicy.IfMissing");

        using var client = new RegistryClient(options.Auth, options.Insecure);
        _logger.LogInformation("image {Reference}: resolving", image);
        var (bytes, mediaType, digest) = await client.GetManifestAsync(image, image.ManifestReference, cancellationToken).ConfigureAwait(false);
        var manifest = Parse(reference, bytes, mediaType);
        if (manifest.IsIndex)
        {
            _cache.PutBlob(bytes);
            var entry = manifest.SelectPlatform() ?? throw new ImagePullException(reference,
                $"the image index has no linux/amd64 manifest (platforms: {string.Join(", ", manifest.Manifests.Select(m => $"{m.Os}/{m.Architecture}"))})");
            (bytes, mediaType, digest) = await client.GetManifestAsync(image, entry.Digest, cancellationToken).ConfigureAwait(false);
            manifest = Parse(reference, bytes, mediaType);
            if (manifest.IsIndex) throw new ImagePullException(reference, "a platform entry of the index is itself an index");
        }
        var config = manifest.Config!;
        if (!_cache.HasBlob(config.Digest))
            _cache.PutBlob(await client.GetBlobBytesAsync(image, config.Digest, cancellationToken).ConfigureAwait(false));
        var imageConfig = ImageConfig.FromOciConfigJson(_cache.ReadBlob(config.Digest));

        int downloaded = 0;
        long bytesDownloaded = 0;
        using var gate = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentDownloads));
        await Task.WhenAll(manifest.Layers.Select(async layer =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (await FetchLayerAsync(client, image, layer, options.Progress, cancellationToken).ConfigureAwait(false))
                {
                    Interlocked.Increment(ref downloaded);
                    Interlocked.Add(ref bytesDownloaded, layer.Size);
                }
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);

        _cache.PutBlob(bytes);
        var record = new CachedImage
        {
            ManifestDigest = digest,
            ConfigDigest = config.Digest,
            Layers = [.. manifest.Layers.Select(l => new CachedLayer(l.Digest, l.Size, l.MediaType))],
            PulledAt = DateTimeOffset.UtcNow,
        };
        _cache.Record(image, record);
        _logger.LogInformation("image {Reference}: {Digest}, {Layers} layers ({Downloaded} downloaded, {Bytes} bytes)",
            image, digest, record.Layers.Count, downloaded, bytesDownloaded);
        return new PullResult
        {
            Reference = image,
            Image = _cache.GetImage(digest) ?? record,
            Config = imageConfig,
            LayersDownloaded = downloaded,
            BytesDownloaded = bytesDownloaded,
        };
    }

    /// <summary>The cached image a reference names, if it is completely cached.</summary>
    public CachedImage? Cached(ImageReference image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var digest = image.Digest ?? _cache.ResolveReference(image);
        if (digest is null) return null;
        var record = _cache.GetImage(digest);
        if (record is null && image.Digest is not null)
        {
            // A digest reference may name an index: follow the recorded reference for it.
            digest = _cache.ResolveReference(image);
            record = digest is null ? null : _cache.GetImage(digest);
        }
        return record is not null && _cache.IsComplete(record) ? record : null;
    }

    private async Task<bool> FetchLayerAsync(RegistryClient client, ImageReference image, OciDescriptor layer, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        if (_cache.HasBlob(layer.Digest))
        {
            progress?.Report(new PullProgress(layer.Digest, layer.Size, layer.Size, Cached: true));
            return false;
        }
        // One process downloads a blob; the others wait here and then find it cached.
        using var held = await _cache.LockAsync("blob-" + Digest.Hex(layer.Digest), cancellationToken).ConfigureAwait(false);
        if (_cache.HasBlob(layer.Digest))
        {
            progress?.Report(new PullProgress(layer.Digest, layer.Size, layer.Size, Cached: true));
            return false;
        }
        _logger.LogInformation("image {Reference}: downloading layer {Digest} ({Size})", image, Digest.Short(layer.Digest), Mib(layer.Size));
        var perLayer = new LayerProgress(progress, layer, new ProgressLog(_logger, image, layer));
        await client.DownloadBlobAsync(image, layer, _cache.BlobPath(layer.Digest), perLayer, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static OciManifest Parse(string reference, byte[] bytes, string mediaType)
    {
        try
        {
            return OciManifest.Parse(bytes, mediaType);
        }
        catch (FormatException e)
        {
            throw new ImagePullException(reference, e.Message, e);
        }
    }

    /// <summary>Forwards byte counts as <see cref="PullProgress"/> on the downloading thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class LayerProgress(IProgress<PullProgress>? target, OciDescriptor layer, ProgressLog log) : IProgress<long>
    {
        public void Report(long value)
        {
            target?.Report(new PullProgress(layer.Digest, value, layer.Size, Cached: false));
            log.Report(value);
        }
    }

    /// <summary>
    /// A long download says how far it got, at most every 2 s, so a 100 MiB pull is not silent until it ends
    /// (<c>image redis:7: layer sha256:1a2b3c4d5e6f 34.5 of 129.0 MiB (27%)</c>).
    /// </summary>
    internal sealed class ProgressLog(ILogger logger, ImageReference image, OciDescriptor layer)
    {
        internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _last;

        public void Report(long done)
        {
            var now = _clock.Elapsed;
            bool finished = layer.Size > 0 && done >= layer.Size;
            if (!finished && now - _last < Interval) return;
            _last = now;
            var percent = layer.Size > 0 ? (int)(100 * done / layer.Size) : 0;
            logger.LogInformation("image {Reference}: layer {Digest} {Done} of {Total} ({Percent}%)", image, Digest.Short(layer.Digest),
                Mib(done).Replace(" MiB", "", StringComparison.Ordinal), Mib(layer.Size), percent);
        }
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";
}
