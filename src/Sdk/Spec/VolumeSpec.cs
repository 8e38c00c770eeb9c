namespace Microsandbox.Spec;

/// <summary>Configuration for creating a named volume.</summary>
public sealed record VolumeSpec
{
    /// <summary>Creates a spec with an empty name.</summary>
    public VolumeSpec() { }

    /// <summary>Creates a directory-backed volume spec with default options.</summary>
    public VolumeSpec(string name) => Name = name;

    /// <summary>Volume name. JSON <c>name</c>, required.</summary>
    public string Name { get; init; } = "";

    /// <summary>Storage kind. JSON <c>kind</c>, required.</summary>
    public VolumeKind Kind { get; init; } = VolumeKind.Directory;

    /// <summary>Size quota in MiB; <see langword="null"/> means unlimited.</summary>
    public uint? QuotaMib { get; init; }

    /// <summary>Disk capacity in MiB; required for disk volumes.</summary>
    public uint? CapacityMib { get; init; }

    /// <summary>Labels, in order. JSON array of <c>[key, value]</c> pairs, required.</summary>
    public IReadOnlyList<(string Key, string Value)> Labels { get; init; } = [];

    /// <summary>Whether both hold the same values (labels compared in order).</summary>
    public bool Equals(VolumeSpec? other) =>
        other is not null && Name == other.Name && Kind == other.Kind && QuotaMib == other.QuotaMib
        && CapacityMib == other.CapacityMib && SpecEquality.Sequence(Labels, other.Labels);

    /// <summary>A hash consistent with <see cref="Equals(VolumeSpec?)"/>.</summary>
    public override int GetHashCode() => HashCode.Combine(Name, Kind, QuotaMib, CapacityMib, SpecEquality.SequenceHash(Labels));
}
