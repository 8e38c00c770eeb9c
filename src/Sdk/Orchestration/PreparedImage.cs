namespace Microsandbox.Orchestration;

/// <summary>An image checked by <see cref="SandboxOrchestrator.PrepareImagesAsync"/> and ready to boot.</summary>
/// <param name="Image">The image as requested (empty for the built-in busybox image).</param>
/// <param name="Location">Where it lives on the host.</param>
public sealed record PreparedImage(string Image, string Location);
