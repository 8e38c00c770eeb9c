using System.Text.Json.Serialization;

namespace Microsandbox.Images;

/// <summary>What the cache knows about one pulled image (one platform manifest).</summary>
public sealed record CachedImage
{
    /// <summary>Digest of the platform manifest.</summary>
    [JsonPropertyName("manifest_digest")]
    public required string ManifestDigest { get; init; }

    /// <summary>Digest of the image config blob.</summary>
    [JsonPropertyName("config_digest")]
    public required string ConfigDigest { get; init; }

    /// <summary>Layers bottom to top.</summary>
    [JsonPropertyName("layers")]
    public required IReadOnlyList<CachedLayer> Layers { get; init; }

    /// <summary>Every normalised reference that resolved to this image.</summary>
    [JsonPropertyName("references")]
    public IReadOnlyList<string> References { get; init; } = [];

    /// <summary>When it was last pulled or checked (UTC).</summary>
    [JsonPropertyName("pulled_at")]
    public DateTimeOffset PulledAt { get; init; }

    /// <summary>Compressed size of all layers in bytes.</summary>
    [JsonIgnore]
    public long Size => Layers.Sum(l => l.Size);
}

/// <summary>One layer of a cached image.</summary>
/// <param name="Digest">Blob digest.</param>
/// <param name="Size">Blob size in bytes.</param>
/// <param name="MediaType">Layer media type.</param>
public sealed record CachedLayer(
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("media_type")] string MediaType);

[JsonSerializable(typeof(CachedImage))]
internal sealed partial class CachedImageJson : JsonSerializerContext;
