namespace Microsandbox.Spec;

/// <summary>OCI root filesystem source: an EROFS lower built from the image and a writable ext4 overlay upper.</summary>
public sealed record OciRootfsSource
{
    /// <summary>Creates a source with an empty reference.</summary>
    public OciRootfsSource() { }

    /// <summary>Creates a source for an image reference, with no upper size set.</summary>
    public OciRootfsSource(string reference) => Reference = reference;

    /// <summary>OCI image reference (for example <c>python</c>). JSON <c>reference</c>, required.</summary>
    public string Reference { get; init; } = "";

    /// <summary>Writable overlay upper size in MiB. JSON <c>upper_size_mib</c>, omitted when <see langword="null"/>.</summary>
    public uint? UpperSizeMib { get; init; }
}
