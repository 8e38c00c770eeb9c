namespace Microsandbox.Spec;

/// <summary>Inputs to create a snapshot. Every field is required on read.</summary>
public sealed record SnapshotSpec
{
    /// <summary>Name of the source sandbox, which must be stopped.</summary>
    public string SourceSandbox { get; init; } = "";

    /// <summary>Where to write the artifact.</summary>
    public SnapshotDestination Destination { get; init; } = new SnapshotDestination.Name("");

    /// <summary>User-supplied labels, as <c>[key, value]</c> pairs.</summary>
    public IReadOnlyList<(string Key, string Value)> Labels { get; init; } = [];

    /// <summary>Whether an existing artifact at the destination is overwritten.</summary>
    public bool Force { get; init; }

    /// <summary>Whether upper-layer content integrity is computed and recorded at creation time.</summary>
    public bool RecordIntegrity { get; init; }

    /// <summary>Whether both hold the same values (labels compared in order).</summary>
    public bool Equals(SnapshotSpec? other) =>
        other is not null && SourceSandbox == other.SourceSandbox && Equals(Destination, other.Destination)
        && SpecEquality.Sequence(Labels, other.Labels) && Force == other.Force && RecordIntegrity == other.RecordIntegrity;

    /// <summary>A hash consistent with <see cref="Equals(SnapshotSpec?)"/>.</summary>
    public override int GetHashCode() => HashCode.Combine(SourceSandbox, Destination, SpecEquality.SequenceHash(Labels), Force, RecordIntegrity);
}
