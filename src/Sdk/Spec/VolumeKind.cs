namespace Microsandbox.Spec;

/// <summary>Storage kind of a named volume. Wire form: <c>"Directory"</c>, <c>"Disk"</c>.</summary>
public enum VolumeKind
{
    /// <summary>Directory-backed volume mounted through virtiofs.</summary>
    Directory,

    /// <summary>Raw ext4 disk-image volume mounted through virtio-blk.</summary>
    Disk,
}
