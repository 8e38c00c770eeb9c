namespace Microsandbox.Spec;

/// <summary>Creation metadata for sandbox-time named volume provisioning. Never persisted inside a <see cref="VolumeMount.Named"/>.</summary>
public sealed record NamedVolumeCreate
{
    /// <summary>Creation behaviour.</summary>
    public NamedVolumeMode Mode { get; init; }

    /// <summary>Volume name to create or ensure.</summary>
    public string Name { get; init; } = "";

    /// <summary>Storage kind to create or ensure.</summary>
    public VolumeKind Kind { get; init; }

    /// <summary>Directory quota in MiB, if configured.</summary>
    public uint? QuotaMib { get; init; }

    /// <summary>Disk capacity in MiB, if configured.</summary>
    public uint? CapacityMib { get; init; }

    /// <summary>Labels to attach to a newly created volume, in order.</summary>
    public IReadOnlyList<(string Key, string Value)> Labels { get; init; } = [];

    /// <summary>Whether both hold the same values (labels compared in order).</summary>
    public bool Equals(NamedVolumeCreate? other) =>
        other is not null && Mode == other.Mode && Name == other.Name && Kind == other.Kind && QuotaMib == other.QuotaMib
        && CapacityMib == other.CapacityMib && SpecEquality.Sequence(Labels, other.Labels);

    /// <summary>A hash consistent with <see cref="Equals(NamedVolumeCreate?)"/>.</summary>
    public override int GetHashCode() => HashCode.Combine(Mode, Name, Kind, QuotaMib, CapacityMib, SpecEquality.SequenceHash(Labels));
}
