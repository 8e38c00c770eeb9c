namespace Microsandbox.Images;

/// <summary>A content descriptor: what a blob is, its digest and its size, and (in an index) its platform.</summary>
/// <param name="MediaType">Media type of the referenced content.</param>
/// <param name="Digest">Its digest.</param>
/// <param name="Size">Its size in bytes.</param>
public sealed record OciDescriptor(string MediaType, string Digest, long Size)
{
    /// <summary>Operating system from an index entry's platform, if any.</summary>
    public string? Os { get; init; }

    /// <summary>CPU architecture from an index entry's platform, if any.</summary>
    public string? Architecture { get; init; }

    /// <summary>Architecture variant from an index entry's platform, if any.</summary>
    public string? Variant { get; init; }
}
