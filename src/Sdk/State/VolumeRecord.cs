namespace Microsandbox.State;

/// <summary>One row of msb's <c>volume</c> table.</summary>
/// <param name="Id">Row id.</param>
/// <param name="Name">Unique volume name.</param>
/// <param name="Kind">Directory or disk image.</param>
/// <param name="QuotaMib">Size quota for directory volumes, if any.</param>
/// <param name="SizeBytes">Last measured size, if msb recorded one.</param>
/// <param name="CapacityBytes">Disk capacity for disk volumes.</param>
/// <param name="DiskFormat">Disk image format (<c>raw</c> for msb's disks).</param>
/// <param name="DiskFstype">Filesystem inside the disk image (<c>ext4</c> for msb's disks).</param>
/// <param name="Labels">Labels (stored as a JSON object in <c>volume.labels</c>, null when empty).</param>
/// <param name="CreatedAt">When the row was inserted (UTC).</param>
/// <param name="UpdatedAt">Last change (UTC).</param>
public sealed record VolumeRecord(
    long Id,
    string Name,
    VolumeKind Kind,
    int? QuotaMib,
    long? SizeBytes,
    long? CapacityBytes,
    string? DiskFormat,
    string? DiskFstype,
    IReadOnlyDictionary<string, string> Labels,
    DateTime? CreatedAt,
    DateTime? UpdatedAt);
