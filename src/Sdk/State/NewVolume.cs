namespace Microsandbox.State;

/// <summary>What to record for a new named volume (the directory or disk file itself is created by the caller).</summary>
/// <param name="Name">Unique volume name.</param>
/// <param name="Kind">Directory (default) or disk image; disks are recorded as <c>raw</c> / <c>ext4</c> like msb's.</param>
/// <param name="QuotaMib">Optional quota for directory volumes.</param>
/// <param name="CapacityBytes">Capacity of a disk volume.</param>
/// <param name="Labels">Optional labels.</param>
public sealed record NewVolume(
    string Name,
    VolumeKind Kind = VolumeKind.Dir,
    int? QuotaMib = null,
    long? CapacityBytes = null,
    IReadOnlyDictionary<string, string>? Labels = null);
