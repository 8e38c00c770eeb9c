namespace Microsandbox.State;

/// <summary>Kind of a named volume, stored in <c>volume.kind</c> as <c>"dir"</c> or <c>"disk"</c>.</summary>
public enum VolumeKind
{
    /// <summary>A host directory shared into the guest (msb's default).</summary>
    Dir,

    /// <summary>A raw ext4 disk image attached as a block device.</summary>
    Disk,
}
