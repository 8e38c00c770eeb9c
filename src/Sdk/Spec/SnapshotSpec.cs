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
}
