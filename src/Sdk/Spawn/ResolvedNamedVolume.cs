using Microsandbox.Spec;

namespace Microsandbox.Spawn;

/// <summary>A named volume as a launch needs it: its kind and where it lives on the host.</summary>
/// <param name="Kind">Directory share or disk image.</param>
/// <param name="Path">The directory (<c>volumes/NAME</c>) or disk file (<c>volumes/NAME/disk.raw</c>).</param>
/// <param name="Format">Disk image format (disk volumes only).</param>
/// <param name="Fstype">Filesystem inside the disk (disk volumes only).</param>
/// <param name="QuotaMib">Write quota of a directory volume, if any.</param>
public sealed record ResolvedNamedVolume(VolumeKind Kind, string Path, DiskImageFormat? Format = null, string? Fstype = null, uint? QuotaMib = null);
