namespace Microsandbox;

/// <summary>An OCI image could not be pulled, verified, read from the cache or turned into a root filesystem.</summary>
public class ImagePullException : MicrosandboxException
{
    /// <summary>Creates the exception for <paramref name="reference"/>.</summary>
    /// <param name="reference">The image reference as the user wrote it.</param>
    /// <param name="message">What went wrong and, where known, how to fix it.</param>
    /// <param name="innerException">The error that caused it.</param>
    public ImagePullException(string reference, string message, Exception? innerException = null)
        : base($"image '{reference}': {message}", innerException) => Reference = reference;

    /// <summary>The image reference.</summary>
    public string Reference { get; }

    /// <summary>The HTTP status the registry answered with, when the failure came from one.</summary>
    public int? StatusCode { get; init; }
}
