namespace Microsandbox.Spec;

/// <summary>
/// Root filesystem source of a sandbox. Externally tagged on the wire:
/// <c>{"Bind":"/path"}</c>, <c>{"Oci":{...}}</c> or <c>{"DiskImage":{...}}</c>.
/// </summary>
public abstract record RootfsSource
{
    private protected RootfsSource() { }

    /// <summary>The default source: OCI with an empty reference (upstream <c>RootfsSource::default</c>).</summary>
    public static RootfsSource Default => ForOci("");

    /// <summary>Creates an OCI source from an image reference.</summary>
    public static RootfsSource ForOci(string reference) => new Oci(new OciRootfsSource(reference));

    /// <summary>The OCI image reference if this is an OCI source, else <see langword="null"/>.</summary>
    public string? OciReference => this is Oci oci ? oci.Source.Reference : null;

    /// <summary>The OCI upper size in MiB if this is an OCI source with one set, else <see langword="null"/>.</summary>
    public uint? OciUpperSizeMib => this is Oci oci ? oci.Source.UpperSizeMib : null;

    /// <summary>Use a host directory directly as the root filesystem. Wire form <c>{"Bind":"/host/path"}</c>.</summary>
    public sealed record Bind : RootfsSource
    {
        /// <summary>Creates a bind source with an empty path.</summary>
        public Bind() { }

        /// <summary>Creates a bind source for a host directory.</summary>
        public Bind(string path) => Path = path;

        /// <summary>Host path to bind mount.</summary>
        public string Path { get; init; } = "";
    }

    /// <summary>Use an OCI image. Wire form <c>{"Oci":{"reference":...,"upper_size_mib":...}}</c>.</summary>
    public sealed record Oci : RootfsSource
    {
        /// <summary>Creates an OCI source with an empty reference.</summary>
        public Oci() { }

        /// <summary>Creates an OCI source.</summary>
        public Oci(OciRootfsSource source) => Source = source;

        /// <summary>The image reference and upper size.</summary>
        public OciRootfsSource Source { get; init; } = new();
    }

    /// <summary>Use a disk image file via virtio-blk. Wire form <c>{"DiskImage":{"path":...,"format":...,"fstype":...}}</c>.</summary>
    public sealed record DiskImage : RootfsSource
    {
        /// <summary>Path to the disk image file on the host.</summary>
        public string Path { get; init; } = "";

        /// <summary>Disk image format.</summary>
        public DiskImageFormat Format { get; init; }

        /// <summary>Inner filesystem type; <see langword="null"/> means auto-detect.</summary>
        public string? Fstype { get; init; }
    }
}
