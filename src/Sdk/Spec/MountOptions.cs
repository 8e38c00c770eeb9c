namespace Microsandbox.Spec;

/// <summary>Guest mount behaviour shared by every volume mount kind. Every field defaults to <see langword="false"/> when missing.</summary>
public sealed record MountOptions
{
    /// <summary>Whether the mount is read-only. JSON <c>readonly</c>.</summary>
    public bool Readonly { get; init; }

    /// <summary>Whether direct execution of files on the mount is refused. JSON <c>noexec</c>.</summary>
    public bool Noexec { get; init; }

    /// <summary>Whether setuid/setgid bits on the mount are ignored. JSON <c>nosuid</c>.</summary>
    public bool Nosuid { get; init; }

    /// <summary>Whether device files on the mount are ignored. JSON <c>nodev</c>.</summary>
    public bool Nodev { get; init; }
}
