using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsandbox.Config;
using Microsandbox.DockerApi.Http;
using Microsandbox.Images;
using Microsandbox.Spec;
using Microsoft.Extensions.Logging;

namespace Microsandbox.DockerApi.Images;

/// <summary>
/// Docker's image endpoints over the SDK's OCI cache (<c>$MSB_HOME/cache/oci</c>): the same images
/// <c>microsandbox pull</c> and sandboxes use. A Docker image ID is the config digest, as with Docker.
/// </summary>
internal sealed class ImageStore(SandboxOptions options)
{
    private readonly ImageCache _cache = new(options.StateDirectory);
    private readonly ILogger _logger = options.LoggerFactory.CreateLogger("Microsandbox.DockerApi.Images");

    /// <summary>A cached image by reference (<c>redis:7</c>, <c>127.0.0.1:5000/x:1</c>), by ID or ID prefix; null when absent.</summary>
    public LocalImage? Find(string name)
    {
        var trimmed = name.StartsWith("sha256:", StringComparison.Ordinal) ? name[7..] : name;
        if (trimmed.Length >= 12 && trimmed.All(char.IsAsciiHexDigitLower))
        {
            var byId = List().FirstOrDefault(i => i.Id[7..].StartsWith(trimmed, StringComparison.Ordinal));
            if (byId is not null) return byId;
        }
        if (!ImageReference.TryParse(name, out var reference, out _)) return null;
        var digest = reference.Digest ?? _cache.ResolveReference(reference);
        if (digest is null || _cache.GetImage(digest) is not { } image || !_cache.IsComplete(image)) return null;
        return Load(image);
    }

    /// <summary>Every complete cached image.</summary>
    public IReadOnlyList<LocalImage> List() =>
        [.. _cache.ListImages().Where(_cache.IsComplete).Select(Load)];

    /// <summary>Pulls an image, reporting Docker-style progress messages; registries on loopback are reached over HTTP.</summary>
    public async Task<LocalImage> PullAsync(string reference, RegistryAuth? auth, Func<JsonObject, Task> progress, CancellationToken cancellationToken)
    {
        var parsed = ImageReference.Parse(reference);
        await progress(new JsonObject { ["status"] = $"Pulling from {parsed.Repository}", ["id"] = parsed.Tag ?? parsed.Digest }).ConfigureAwait(false);
        var puller = new ImagePuller(_cache, _logger);
        var result = await puller.PullAsync(reference, new PullOptions
        {
            Policy = PullPolicy.Always,
            Auth = auth,
        }, cancellationToken).ConfigureAwait(false);
        foreach (var layer in result.Image.Layers)
        {
            var id = ShortId(layer.Digest);
            await progress(new JsonObject { ["status"] = "Pull complete", ["id"] = id, ["progressDetail"] = new JsonObject() }).ConfigureAwait(false);
        }
        await progress(new JsonObject { ["status"] = $"Digest: {result.Image.ManifestDigest}" }).ConfigureAwait(false);
        await progress(new JsonObject
        {
            ["status"] = result.LayersDownloaded > 0 ? $"Status: Downloaded newer image for {reference}" : $"Status: Image is up to date for {reference}",
        }).ConfigureAwait(false);
        return Load(result.Image);
    }

    /// <summary>Forgets the references of an image (its blobs stay cached for other references).</summary>
    public void Remove(LocalImage image) => _cache.Forget(image.Image);

    private LocalImage Load(CachedImage image)
    {
        var configJson = _cache.ReadBlob(image.ConfigDigest);
        return new LocalImage(image, ImageConfig.FromOciConfigJson(configJson), JsonNode.Parse(configJson)!.AsObject());
    }

    /// <summary>The 12-character short form Docker prints for digests.</summary>
    public static string ShortId(string digest) => (digest.StartsWith("sha256:", StringComparison.Ordinal) ? digest[7..] : digest)[..12];

    /// <summary>Decodes <c>X-Registry-Auth</c> (base64url JSON with username/password); null or empty means anonymous.</summary>
    public static RegistryAuth? DecodeAuth(string? header)
    {
        if (string.IsNullOrWhiteSpace(header)) return null;
        try
        {
            var text = header.Replace('-', '+').Replace('_', '/');
            text = text.PadRight(text.Length + (4 - text.Length % 4) % 4, '=');
            using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(text)));
            var root = doc.RootElement;
            var user = root.TryGetProperty("username", out var u) ? u.GetString() : null;
            var password = root.TryGetProperty("password", out var p) ? p.GetString() : null;
            return string.IsNullOrEmpty(user) ? null : RegistryAuth.Basic(user, password ?? "");
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException)
        {
            throw DockerApiException.BadRequest($"X-Registry-Auth: not base64url-encoded JSON credentials ({ex.Message})");
        }
    }
}

/// <summary>A complete cached image: its cache record, parsed config and the config document as stored.</summary>
internal sealed record LocalImage(CachedImage Image, ImageConfig Config, JsonObject ConfigDocument)
{
    /// <summary>Docker's image ID: the config digest.</summary>
    public string Id => Image.ConfigDigest;

    /// <summary>References as Docker prints them (<c>redis:7</c> for Docker Hub's library images).</summary>
    public IReadOnlyList<string> RepoTags => [.. Image.References.Select(DockerName)];

    internal static string DockerName(string reference)
    {
        const string hub = ImageReference.DockerHub + "/";
        if (!reference.StartsWith(hub, StringComparison.Ordinal)) return reference;
        var rest = reference[hub.Length..];
        return rest.StartsWith("library/", StringComparison.Ordinal) ? rest[8..] : rest;
    }
}
