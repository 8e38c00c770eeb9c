namespace Microsandbox.Orchestration;

/// <summary>An image checked (local) or pulled (OCI) by <see cref="SandboxOrchestrator.PrepareImagesAsync"/> and ready to boot.</summary>
/// <param name="Image">The image as requested (empty for the built-in busybox image).</param>
/// <param name="Location">Where it lives on the host: the disk or directory; for an OCI image, the root disk built from it in the image cache.</param>
public sealed record PreparedImage(string Image, string Location)
{
    /// <summary>The pulled manifest digest of an OCI image; null for local images.</summary>
    public string? ManifestDigest { get; init; }
}
