using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>
/// Says whether and how a named volume is provisioned when the sandbox is created
/// (<see cref="MountBuilder.NamedWith"/>). Immutable: every method returns a new builder.
/// </summary>
public sealed class NamedVolumeBuilder
{
    private NamedVolumeCreate _create;

    internal NamedVolumeBuilder(string name) =>
        _create = new NamedVolumeCreate { Mode = NamedVolumeMode.Existing, Name = name, Kind = VolumeKind.Directory };

    /// <summary>Requires the volume to exist already (the default).</summary>
    public NamedVolumeBuilder Existing() => With(_create with { Mode = NamedVolumeMode.Existing });

    /// <summary>Creates the volume; creation fails if it already exists.</summary>
    public NamedVolumeBuilder Create() => With(_create with { Mode = NamedVolumeMode.Create });

    /// <summary>Creates the volume unless a compatible one exists.</summary>
    public NamedVolumeBuilder EnsureExists() => With(_create with { Mode = NamedVolumeMode.EnsureExists });

    /// <summary>Overrides the volume name.</summary>
    public NamedVolumeBuilder Name(string name) =>
        With(_create with { Name = name ?? throw new ArgumentNullException(nameof(name)) });

    /// <summary>Uses directory-backed storage (the default); clears any disk capacity.</summary>
    public NamedVolumeBuilder Directory() => With(_create with { Kind = VolumeKind.Directory, CapacityMib = null });

    /// <summary>Uses raw ext4 disk-image storage; clears any directory quota.</summary>
    public NamedVolumeBuilder Disk() => With(_create with { Kind = VolumeKind.Disk, QuotaMib = null });

    /// <summary>Sets the directory storage quota in MiB.</summary>
    public NamedVolumeBuilder Quota(uint sizeMib) => With(_create with { QuotaMib = sizeMib });

    /// <summary>Sets the disk capacity in MiB.</summary>
    public NamedVolumeBuilder Size(uint sizeMib) => With(_create with { CapacityMib = sizeMib });

    /// <summary>Attaches a label to a newly created volume; may be called repeatedly.</summary>
    public NamedVolumeBuilder Label(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        return With(_create with { Labels = [.. _create.Labels, (key, value)] });
    }

    internal NamedVolumeCreate Build() => _create;

    private NamedVolumeBuilder With(NamedVolumeCreate create)
    {
        var copy = (NamedVolumeBuilder)MemberwiseClone();
        copy._create = create;
        return copy;
    }
}
