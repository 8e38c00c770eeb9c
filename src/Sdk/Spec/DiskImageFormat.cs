namespace Microsandbox.Spec;

/// <summary>Disk image format for virtio-blk root filesystems and volume mounts. Wire form: <c>"Qcow2"</c>, <c>"Raw"</c>, <c>"Vmdk"</c>.</summary>
public enum DiskImageFormat
{
    /// <summary>QEMU Copy-on-Write v2.</summary>
    Qcow2,

    /// <summary>Raw disk image.</summary>
    Raw,

    /// <summary>VMware disk (FLAT/ZERO only, no delta links).</summary>
    Vmdk,
}
