using System.Text.Json;

namespace Microsandbox.Images;

/// <summary>
/// A parsed manifest document: either an index (<see cref="Manifests"/> set) or a single-platform image manifest
/// (<see cref="Config"/> and <see cref="Layers"/> set). OCI and Docker schema 2 forms read the same way.
/// </summary>
public sealed record OciManifest
{
    /// <summary>The document's media type (from the document, else from the response's content type).</summary>
    public required string MediaType { get; init; }

    /// <summary>Index entries, for an index.</summary>
    public IReadOnlyList<OciDescriptor> Manifests { get; init; } = [];

    /// <summary>The image config blob, for an image manifest.</summary>
    public OciDescriptor? Config { get; init; }

    /// <summary>Layers bottom to top, for an image manifest.</summary>
    public IReadOnlyList<OciDescriptor> Layers { get; init; } = [];

    /// <summary>Whether this is an index.</summary>
    public bool IsIndex => OciMediaTypes.IsIndex(MediaType);

    /// <summary>Parses a manifest or index; <paramref name="contentType"/> fills in a missing <c>mediaType</c>.</summary>
    /// <exception cref="FormatException">The document is not a manifest or index this client reads.</exception>
    public static OciManifest Parse(ReadOnlySpan<byte> json, string? contentType = null)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new FormatException("a manifest must be a JSON object");
            var mediaType = Text(root, "mediaType") ?? contentType?.Split(';')[0].Trim();
            if (root.TryGetProperty("manifests", out var manifests) && manifests.ValueKind == JsonValueKind.Array)
            {
                mediaType = OciMediaTypes.IsIndex(mediaType) ? mediaType! : OciMediaTypes.ImageIndex;
                return new OciManifest { MediaType = mediaType, Manifests = manifests.EnumerateArray().Select(ReadDescriptor).ToArray() };
            }
            if (!root.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
            {
                if (root.TryGetProperty("schemaVersion", out var v) && v.ValueKind == JsonValueKind.Number && v.GetInt32() == 1)
                    throw new FormatException("Docker schema 1 manifests are not supported");
                throw new FormatException("the document has neither 'manifests' nor 'config'");
            }
            var layers = root.TryGetProperty("layers", out var l) && l.ValueKind == JsonValueKind.Array
                ? l.EnumerateArray().Select(ReadDescriptor).ToArray()
                : [];
            return new OciManifest
            {
                MediaType = OciMediaTypes.IsManifest(mediaType) ? mediaType! : OciMediaTypes.ImageManifest,
                Config = ReadDescriptor(config),
                Layers = layers,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new FormatException($"malformed manifest: {e.Message}", e);
        }
    }

    /// <summary>Chooses the entry of an index for <paramref name="os"/>/<paramref name="architecture"/>, or null.</summary>
    public OciDescriptor? SelectPlatform(string os = "linux", string architecture = "amd64") =>
        Manifests.FirstOrDefault(m => m.Os == os && m.Architecture == architecture && OciMediaTypes.IsManifest(m.MediaType))
        ?? Manifests.FirstOrDefault(m => m.Os == os && m.Architecture == architecture);

    private static OciDescriptor ReadDescriptor(JsonElement e)
    {
        var digest = Text(e, "digest") ?? throw new FormatException("a descriptor has no digest");
        if (!Digest.IsValid(digest)) throw new FormatException($"descriptor digest '{digest}' is not sha256");
        var size = e.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : -1;
        var descriptor = new OciDescriptor(Text(e, "mediaType") ?? "", digest, size);
        if (e.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object)
            descriptor = descriptor with { Os = Text(p, "os"), Architecture = Text(p, "architecture"), Variant = Text(p, "variant") };
        return descriptor;
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
