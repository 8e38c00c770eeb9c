using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsandbox.Config;

namespace Microsandbox.Images;

/// <summary>
/// A small OCI distribution client: manifests and blobs over the registry HTTP API v2, with <c>Basic</c> and
/// <c>Bearer</c> token auth, digest verification and resumable blob downloads. Plain HTTP is used for
/// <see cref="ImageReference.IsLoopbackRegistry">loopback</see> registries and when <c>insecure</c> is set.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly RegistryCredentials _credentials;
    private readonly bool _insecure;

    /// <summary>Creates a client.</summary>
    /// <param name="auth">Credentials; null or anonymous for none. Kept in memory only.</param>
    /// <param name="insecure">Talk plain HTTP to every registry (loopback registries always get plain HTTP).</param>
    /// <param name="http">An HTTP client to use (for tests); by default one is created and owned.</param>
    public RegistryClient(RegistryAuth? auth = null, bool insecure = false, HttpClient? http = null)
    {
        _credentials = new RegistryCredentials(auth);
        _insecure = insecure;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient(new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The registry's base URL for a reference.</summary>
    public Uri BaseUri(ImageReference reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var scheme = _insecure || reference.IsLoopbackRegistry ? "http" : "https";
        // Docker Hub is named docker.io in references and served from its API host, as the docker CLI does it.
        var host = reference.Registry == ImageReference.DockerHub ? ImageReference.DockerHubApiHost : reference.Registry;
        return new Uri($"{scheme}://{host}/v2/");
    }

    /// <summary>Fetches a manifest or index by tag or digest; verifies it against the digest when one was asked for.</summary>
    /// <returns>The raw bytes, the media type and the content digest.</returns>
    public async Task<(byte[] Bytes, string MediaType, string Digest)> GetManifestAsync(ImageReference image, string tagOrDigest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var uri = new Uri(BaseUri(image), $"{image.Repository}/manifests/{tagOrDigest}");
        using var response = await SendAsync(image, "pull", () =>
        {
            var r = new HttpRequestMessage(HttpMethod.Get, uri);
            foreach (var type in OciMediaTypes.ManifestAccept) r.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            return r;
        }, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            var what = Images.Digest.IsValid(tagOrDigest) ? $"manifest {tagOrDigest}" : $"tag '{tagOrDigest}'";
            throw new ImagePullException(image.Original, $"{what} not found in repository {image.Registry}/{image.Repository}") { StatusCode = 404 };
        }
        await EnsureSuccessAsync(image, response, "manifest", cancellationToken).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var digest = Images.Digest.Of(bytes);
        if (Images.Digest.IsValid(tagOrDigest) && digest != tagOrDigest)
            throw new ImagePullException(image.Original, $"manifest digest mismatch: asked for {tagOrDigest}, the registry sent content with digest {digest}");
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
        return (bytes, mediaType, digest);
    }

    /// <summary>Reads a small blob (such as an image config) into memory, verifying its digest.</summary>
    public async Task<byte[]> GetBlobBytesAsync(ImageReference image, string digest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var uri = new Uri(BaseUri(image), $"{image.Repository}/blobs/{digest}");
        using var response = await SendAsync(image, "pull", () => new HttpRequestMessage(HttpMethod.Get, uri), cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(image, response, $"blob {digest}", cancellationToken).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (Images.Digest.Of(bytes) != digest)
            throw new ImagePullException(image.Original, $"blob digest mismatch: expected {digest}, received {Images.Digest.Of(bytes)}");
        return bytes;
    }

    /// <summary>
    /// Downloads a blob to <paramref name="destination"/>, resuming from <c>destination.partial</c> when a previous
    /// attempt left one, and verifies the digest before moving it into place. A mismatch deletes the partial file.
    /// </summary>
    /// <param name="image">Which registry and repository.</param>
    /// <param name="descriptor">The blob's digest and size.</param>
    /// <param name="destination">Final path; written only after verification.</param>
    /// <param name="progress">Receives the byte count received so far.</param>
    /// <param name="cancellationToken">Stops the download (the partial file stays for a resume).</param>
    public async Task DownloadBlobAsync(ImageReference image, OciDescriptor descriptor, string destination, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(descriptor);
        var partial = destination + ".partial";
        if (!File.Exists(partial))
        {
            await DownloadOnceAsync(image, descriptor, destination, partial, progress, cancellationToken).ConfigureAwait(false);
            return;
        }
        try
        {
            await DownloadOnceAsync(image, descriptor, destination, partial, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (ImagePullException) when (!File.Exists(partial))
        {
            // The resumed download did not verify (a stale or foreign partial file): start again from byte 0 once.
            await DownloadOnceAsync(image, descriptor, destination, partial, progress, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task DownloadOnceAsync(ImageReference image, OciDescriptor descriptor, string destination, string partial, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long offset = 0;
        if (File.Exists(partial))
        {
            await using var existing = File.OpenRead(partial);
            var buffer = new byte[1 << 16];
            int n;
            while ((n = await existing.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                offset += n;
            }
        }
        if (descriptor.Size >= 0 && offset > descriptor.Size)
        {
            File.Delete(partial);
            hash.GetHashAndReset();
            offset = 0;
        }

        var uri = new Uri(BaseUri(image), $"{image.Repository}/blobs/{descriptor.Digest}");
        long resumeFrom = offset;
        using var response = await SendAsync(image, "pull", () =>
        {
            var r = new HttpRequestMessage(HttpMethod.Get, uri);
            if (resumeFrom > 0) r.Headers.Range = new RangeHeaderValue(resumeFrom, null);
            return r;
        }, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && offset > 0)
        {
            // The partial file is already complete (or wrong): verify what is there.
        }
        else
        {
            await EnsureSuccessAsync(image, response, $"blob {descriptor.Digest}", cancellationToken).ConfigureAwait(false);
            bool append = offset > 0 && response.StatusCode == HttpStatusCode.PartialContent;
            if (!append && offset > 0)
            {
                hash.GetHashAndReset();
                offset = 0;
            }
            await using var output = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            await using var input = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[1 << 16];
            int n;
            while ((n = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                hash.AppendData(buffer, 0, n);
                offset += n;
                progress?.Report(offset);
                if (descriptor.Size >= 0 && offset > descriptor.Size) break;
            }
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        var actual = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
        if (actual != descriptor.Digest || (descriptor.Size >= 0 && offset != descriptor.Size))
        {
            File.Delete(partial);
            throw new ImagePullException(image.Original,
                $"blob digest mismatch: expected {descriptor.Digest} ({descriptor.Size} bytes), received {actual} ({offset} bytes); the download was discarded");
        }
        File.Move(partial, destination, overwrite: true);
    }

    /// <summary>Uploads a blob unless the registry already has it (monolithic upload). Used to publish test images.</summary>
    public async Task PushBlobAsync(ImageReference image, byte[] content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(content);
        var digest = Images.Digest.Of(content);
        var baseUri = BaseUri(image);
        using (var head = await SendAsync(image, "pull,push", () => new HttpRequestMessage(HttpMethod.Head, new Uri(baseUri, $"{image.Repository}/blobs/{digest}")), cancellationToken).ConfigureAwait(false))
        {
            if (head.IsSuccessStatusCode) return;
        }
        using var start = await SendAsync(image, "pull,push", () => new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, $"{image.Repository}/blobs/uploads/")), cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(image, start, "blob upload", cancellationToken).ConfigureAwait(false);
        var location = start.Headers.Location ?? throw new ImagePullException(image.Original, "the registry started an upload without a Location");
        if (!location.IsAbsoluteUri) location = new Uri(baseUri, location);
        var put = new UriBuilder(location);
        put.Query = (string.IsNullOrEmpty(put.Query) ? "" : put.Query.TrimStart('?') + "&") + "digest=" + Uri.EscapeDataString(digest);
        using var done = await SendAsync(image, "pull,push", () => new HttpRequestMessage(HttpMethod.Put, put.Uri)
        {
            Content = new ByteArrayContent(content) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } },
        }, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(image, done, $"blob upload {digest}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Uploads a manifest or index under a tag or its digest.</summary>
    public async Task PushManifestAsync(ImageReference image, string tagOrDigest, byte[] manifest, string mediaType, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var uri = new Uri(BaseUri(image), $"{image.Repository}/manifests/{tagOrDigest}");
        using var response = await SendAsync(image, "pull,push", () => new HttpRequestMessage(HttpMethod.Put, uri)
        {
            Content = new ByteArrayContent(manifest) { Headers = { ContentType = new MediaTypeHeaderValue(mediaType) } },
        }, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(image, response, "manifest upload", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Pushes the one image of an OCI layout directory (<c>index.json</c>, <c>blobs/sha256/</c>) as
    /// <paramref name="image"/>: its layers and config, then its manifest under the reference's tag.
    /// </summary>
    /// <exception cref="ImagePullException">The registry refused an upload.</exception>
    public async Task PushLayoutAsync(string layoutDirectory, ImageReference image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layoutDirectory);
        ArgumentNullException.ThrowIfNull(image);
        string Blob(string digest) => Path.Combine(layoutDirectory, "blobs", "sha256", Images.Digest.Hex(digest));
        using var index = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(layoutDirectory, "index.json"), cancellationToken).ConfigureAwait(false));
        var descriptor = index.RootElement.GetProperty("manifests")[0];
        var manifestBytes = await File.ReadAllBytesAsync(Blob(descriptor.GetProperty("digest").GetString()!), cancellationToken).ConfigureAwait(false);
        using var manifest = System.Text.Json.JsonDocument.Parse(manifestBytes);
        var blobs = manifest.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!)
            .Append(manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!);
        foreach (var digest in blobs)
            await PushBlobAsync(image, await File.ReadAllBytesAsync(Blob(digest), cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var mediaType = descriptor.TryGetProperty("mediaType", out var m) ? m.GetString()! : OciMediaTypes.ImageManifest;
        await PushManifestAsync(image, image.Tag ?? image.Digest ?? ImageReference.DefaultTag, manifestBytes, mediaType, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> SendAsync(ImageReference image, string actions, Func<HttpRequestMessage> create, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            using (var request = create())
            {
                request.Headers.Authorization = _credentials.Cached(image.Repository + "|" + actions);
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            if (response.StatusCode != HttpStatusCode.Unauthorized) return response;
            var header = await _credentials.AnswerAsync(_http, response, image.Repository, actions, cancellationToken).ConfigureAwait(false);
            if (header is null)
            {
                response.Dispose();
                throw Unauthorized(image);
            }
            _credentials.Remember(image.Repository + "|" + actions, header);
            response.Dispose();
            using (var retry = create())
            {
                retry.Headers.Authorization = header;
                response = await _http.SendAsync(retry, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (HttpRequestException e)
        {
            throw new ImagePullException(image.Original, $"cannot reach registry {image.Registry}: {e.Message}", e);
        }
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            response.Dispose();
            throw Unauthorized(image);
        }
        return response;
    }

    private ImagePullException Unauthorized(ImageReference image) => new(image.Original, _credentials.HasCredentials
        ? $"registry {image.Registry} rejected the credentials for {image.Repository} (401 Unauthorized)"
        : $"registry {image.Registry} requires authentication for {image.Repository} (401 Unauthorized); set credentials with .Registry(r => r.Auth(RegistryAuth.Basic(user, password)))") { StatusCode = 401 };

    private static async Task EnsureSuccessAsync(ImageReference image, HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        string body = "";
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException) { }
        if (body.Length > 300) body = body[..300];
        throw new ImagePullException(image.Original, $"{what}: registry answered {(int)response.StatusCode} {response.ReasonPhrase}{(body.Length > 0 ? ": " + body.Trim() : "")}")
        { StatusCode = (int)response.StatusCode };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }
}
