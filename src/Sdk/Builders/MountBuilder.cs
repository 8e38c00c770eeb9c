using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>
/// Builds one volume mount at a guest path: a host directory (<see cref="Bind"/>), a named volume
/// (<see cref="Named"/>), a tmpfs (<see cref="Tmpfs"/>) or a disk image (<see cref="Disk"/>), plus options.
/// Options that do not apply to the chosen kind are errors at <see cref="Build"/>, never silently dropped.
/// Immutable: every method returns a new builder.
/// </summary>
public sealed class MountBuilder
{
    private enum Kind { Unset, Bind, Named, Tmpfs, Disk }

    private readonly string _guest;
    private Kind _kind;
    private string _source = "";
    private NamedVolumeCreate? _create;
    private MountOptions _options = new();
    private uint? _sizeMib;
    private uint? _quotaMib;
    private DiskImageFormat? _diskFormat;
    private string? _diskFstype;
    private StatVirtualization? _statVirtualization;
    private HostPermissions? _hostPermissions;
    private string? _error;

    /// <summary>Starts a mount at the given guest path.</summary>
    public MountBuilder(string guest) => _guest = guest ?? throw new ArgumentNullException(nameof(guest));

    /// <summary>Bind-mounts a host directory.</summary>
    public MountBuilder Bind(string host) => SetKind(Kind.Bind, host ?? throw new ArgumentNullException(nameof(host)), null);

    /// <summary>Mounts an existing named volume (persists across restarts, shareable between sandboxes).</summary>
    public MountBuilder Named(string name) => SetKind(Kind.Named, name ?? throw new ArgumentNullException(nameof(name)), null);

    /// <summary>Mounts a named volume, saying whether it must exist, is created, or is ensured.</summary>
    public MountBuilder NamedWith(string name, Func<NamedVolumeBuilder, NamedVolumeBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(configure);
        var create = configure(new NamedVolumeBuilder(name)).Build();
        return SetKind(Kind.Named, create.Name, create.Mode == NamedVolumeMode.Existing ? null : create);
    }

    /// <summary>Mounts a memory-backed tmpfs.</summary>
    public MountBuilder Tmpfs() => SetKind(Kind.Tmpfs, "", null);

    /// <summary>
    /// Attaches a disk image as a virtio-blk device. The format follows the extension
    /// (<c>.qcow2</c>, <c>.vmdk</c>, anything else raw) unless <see cref="Format"/> overrides it.
    /// </summary>
    public MountBuilder Disk(string host) => SetKind(Kind.Disk, host ?? throw new ArgumentNullException(nameof(host)), null);

    /// <summary>Overrides the disk image format. Valid only for <see cref="Disk"/> mounts; order does not matter.</summary>
    public MountBuilder Format(DiskImageFormat format) => With(b => b._diskFormat = format);

    /// <summary>Sets the disk image's inner filesystem type. Valid only for <see cref="Disk"/> mounts.</summary>
    public MountBuilder Fstype(string fstype)
    {
        ArgumentNullException.ThrowIfNull(fstype);
        return With(b =>
        {
            if (MountRules.FstypeError(fstype) is { } message)
            {
                b._error ??= message;
                return;
            }
            b._diskFstype = fstype;
        });
    }

    /// <summary>Makes the mount read-only (the host side rejects writes too).</summary>
    public MountBuilder Readonly() => With(b => b._options = b._options with { Readonly = true });

    /// <summary>Refuses direct execution of files on the mount (interpreters can still read them).</summary>
    public MountBuilder Noexec() => With(b => b._options = b._options with { Noexec = true });

    /// <summary>Ignores setuid and setgid bits of files on the mount.</summary>
    public MountBuilder Nosuid() => With(b => b._options = b._options with { Nosuid = true });

    /// <summary>Ignores device files on the mount.</summary>
    public MountBuilder Nodev() => With(b => b._options = b._options with { Nodev = true });

    /// <summary>Sets the stat virtualization policy (default strict). Valid only for bind and named mounts.</summary>
    public MountBuilder StatVirtualization(StatVirtualization policy) => With(b => b._statVirtualization = policy);

    /// <summary>Sets the host permission propagation policy (default private). Valid only for bind and named mounts.</summary>
    public MountBuilder HostPermissions(HostPermissions policy) => With(b => b._hostPermissions = policy);

    /// <summary>Sets the tmpfs size limit in MiB. Valid only for <see cref="Tmpfs"/> mounts.</summary>
    public MountBuilder Size(uint sizeMib) => With(b => b._sizeMib = sizeMib);

    /// <summary>Sets how many MiB the guest may add to a bind-mounted directory. Valid only for <see cref="Bind"/> mounts.</summary>
    public MountBuilder Quota(uint sizeMib) => With(b => b._quotaMib = sizeMib);

    /// <summary>Validates the settings and returns the mount.</summary>
    /// <exception cref="InvalidConfigException">A rule is broken; the message names it (upstream's text).</exception>
    public VolumeMount Build()
    {
        if (_error is not null)
        {
            throw new InvalidConfigException(_error);
        }
        MountRules.ValidateGuestPath(_guest);

        var isVirtiofs = _kind is Kind.Bind or Kind.Named;
        if (_sizeMib is not null && _kind != Kind.Tmpfs)
        {
            throw new InvalidConfigException(".size() is only valid for tmpfs mounts");
        }
        if (_quotaMib is not null && _kind != Kind.Bind)
        {
            throw new InvalidConfigException(
                ".quota() is only valid for bind mounts; for named volumes use .named_with(|v| v.quota(..))");
        }
        if (_diskFormat is not null && _kind != Kind.Disk)
        {
            throw new InvalidConfigException(".format() is only valid for disk image mounts");
        }
        if (_diskFstype is not null && _kind != Kind.Disk)
        {
            throw new InvalidConfigException(".fstype() is only valid for disk image mounts");
        }
        if (_statVirtualization is not null && !isVirtiofs)
        {
            throw new InvalidConfigException(".stat_virtualization() is only valid for bind and named volume mounts");
        }
        if (_hostPermissions is not null && !isVirtiofs)
        {
            throw new InvalidConfigException(".host_permissions() is only valid for bind and named volume mounts");
        }
        if (_kind == Kind.Named && _create is { Kind: VolumeKind.Disk })
        {
            // A disk-backed named volume is a block device: virtiofs policies cannot apply, even set to defaults.
            if (_statVirtualization is not null)
            {
                throw new InvalidConfigException($"stat_virtualization is only valid for directory named volumes: {_source}");
            }
            if (_hostPermissions is not null)
            {
                throw new InvalidConfigException($"host_permissions is only valid for directory named volumes: {_source}");
            }
        }
        // Only an explicit Off + Mirror pair is contradictory; the defaults never trip this.
        if (_statVirtualization == Spec.StatVirtualization.Off && _hostPermissions == Spec.HostPermissions.Mirror)
        {
            throw new InvalidConfigException(MountRules.OffMirrorMessage);
        }

        var statVirtualization = _statVirtualization ?? Spec.StatVirtualization.Strict;
        var hostPermissions = _hostPermissions ?? Spec.HostPermissions.Private;
        VolumeMount mount;
        switch (_kind)
        {
            case Kind.Bind:
                // Host paths travel in a `tag:host[:opts]` grammar; separators would inject options.
                foreach (var separator in new[] { ',', ':', ';' })
                {
                    if (_source.Contains(separator))
                    {
                        throw new InvalidConfigException($"bind host path must not contain '{separator}': {_source}");
                    }
                }
                mount = new VolumeMount.Bind
                {
                    Host = _source,
                    Guest = _guest,
                    Options = _options,
                    StatVirtualization = statVirtualization,
                    HostPermissions = hostPermissions,
                    QuotaMib = _quotaMib,
                };
                break;
            case Kind.Named:
                SandboxRules.ValidateVolumeName(_source);
                mount = new VolumeMount.Named
                {
                    Name = _source,
                    Guest = _guest,
                    Create = _create,
                    Options = _options,
                    StatVirtualization = statVirtualization,
                    HostPermissions = hostPermissions,
                };
                break;
            case Kind.Tmpfs:
                mount = new VolumeMount.Tmpfs { Guest = _guest, SizeMib = _sizeMib, Options = _options };
                break;
            case Kind.Disk:
                mount = new VolumeMount.DiskImage
                {
                    Host = _source,
                    Guest = _guest,
                    Format = _diskFormat
                        ?? DiskImageFormatExtensions.FromExtension(RustText.Extension(_source) ?? "")
                        ?? DiskImageFormat.Raw,
                    Fstype = _diskFstype,
                    Options = _options,
                };
                break;
            default:
                throw new InvalidConfigException(
                    "MountBuilder: no mount type set (call .bind(), .named(), .tmpfs(), or .disk())");
        }
        MountRules.Validate(mount);
        return mount;
    }

    private MountBuilder SetKind(Kind kind, string source, NamedVolumeCreate? create) => With(b =>
    {
        b._kind = kind;
        b._source = source;
        b._create = create;
    });

    private MountBuilder With(Action<MountBuilder> change)
    {
        var copy = (MountBuilder)MemberwiseClone();
        change(copy);
        return copy;
    }
}
