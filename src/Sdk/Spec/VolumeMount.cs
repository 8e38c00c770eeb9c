namespace Microsandbox.Spec;

/// <summary>
/// A volume mount of a sandbox. Internally tagged on the wire by <c>"type"</c>:
/// <c>Bind</c>, <c>Named</c>, <c>Tmpfs</c> or <c>DiskImage</c>.
/// </summary>
public abstract record VolumeMount
{
    private protected VolumeMount() { }

    /// <summary>Absolute guest path where the mount appears. JSON <c>guest</c>, required.</summary>
    public string Guest { get; init; } = "";

    /// <summary>Guest mount behaviour. JSON <c>options</c>; on read, a missing value comes from the legacy <c>readonly</c> flag.</summary>
    public MountOptions Options { get; init; } = new();

    /// <summary>Named-volume creation metadata when this mount provisions a named volume, else <see langword="null"/>.</summary>
    public NamedVolumeCreate? NamedCreate => this is Named named ? named.Create : null;

    /// <summary>Bind mount of a host directory.</summary>
    public sealed record Bind : VolumeMount
    {
        /// <summary>Host directory to bind mount.</summary>
        public string Host { get; init; } = "";

        /// <summary>Guest-visible stat virtualization policy (default <see cref="Spec.StatVirtualization.Strict"/>).</summary>
        public StatVirtualization StatVirtualization { get; init; } = StatVirtualization.Strict;

        /// <summary>Host permission propagation policy (default <see cref="Spec.HostPermissions.Private"/>).</summary>
        public HostPermissions HostPermissions { get; init; } = HostPermissions.Private;

        /// <summary>Guest-write byte budget in MiB; <see langword="null"/> applies the protective default at spawn time.</summary>
        public uint? QuotaMib { get; init; }
    }

    /// <summary>Mount of a named volume.</summary>
    public sealed record Named : VolumeMount
    {
        /// <summary>Volume name.</summary>
        public string Name { get; init; } = "";

        /// <summary>Creation metadata; transient, never serialised, always <see langword="null"/> after a read.</summary>
        public NamedVolumeCreate? Create { get; init; }

        /// <summary>Guest-visible stat virtualization policy (default <see cref="Spec.StatVirtualization.Strict"/>).</summary>
        public StatVirtualization StatVirtualization { get; init; } = StatVirtualization.Strict;

        /// <summary>Host permission propagation policy (default <see cref="Spec.HostPermissions.Private"/>).</summary>
        public HostPermissions HostPermissions { get; init; } = HostPermissions.Private;
    }

    /// <summary>Temporary filesystem backed by guest memory.</summary>
    public sealed record Tmpfs : VolumeMount
    {
        /// <summary>Size limit in MiB; <see langword="null"/> means the kernel default.</summary>
        public uint? SizeMib { get; init; }
    }

    /// <summary>Disk image file attached as a virtio-blk device and mounted at a guest path.</summary>
    public sealed record DiskImage : VolumeMount
    {
        /// <summary>Host path of the disk image file.</summary>
        public string Host { get; init; } = "";

        /// <summary>Disk image format.</summary>
        public DiskImageFormat Format { get; init; }

        /// <summary>Inner filesystem type; <see langword="null"/> lets the guest agent probe.</summary>
        public string? Fstype { get; init; }
    }
}
