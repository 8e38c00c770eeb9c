namespace Microsandbox.Config;

/// <summary>
/// A file or directory copied into the guest before the main process starts (Testcontainers' resource mapping):
/// from a host path, or bytes. Mode applies to files (default: the host file's, or 0644 for bytes); the owner to
/// everything copied (default: root).
/// </summary>
public sealed record GuestFile
{
    /// <summary>Absolute guest path it is copied to.</summary>
    public required string GuestPath { get; init; }

    /// <summary>The host file or directory to copy; null when <see cref="Content"/> is given.</summary>
    public string? HostPath { get; init; }

    /// <summary>The bytes to write; null when <see cref="HostPath"/> is given.</summary>
    public ReadOnlyMemory<byte>? Content { get; init; }

    /// <summary>Permission bits for files.</summary>
    public uint? Mode { get; init; }

    /// <summary>Owner user id.</summary>
    public uint? Uid { get; init; }

    /// <summary>Owner group id.</summary>
    public uint? Gid { get; init; }
}
