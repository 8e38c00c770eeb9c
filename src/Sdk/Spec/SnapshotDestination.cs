namespace Microsandbox.Spec;

/// <summary>Where a new snapshot artifact goes. Externally tagged: <c>{"Name":"x"}</c> or <c>{"Path":"/dir"}</c>.</summary>
public abstract record SnapshotDestination
{
    private protected SnapshotDestination() { }

    /// <summary>A bare name resolved under the default snapshots directory.</summary>
    public sealed record Name : SnapshotDestination
    {
        /// <summary>Creates the destination.</summary>
        public Name(string value) => Value = value;

        /// <summary>The snapshot name.</summary>
        public string Value { get; init; }
    }

    /// <summary>An explicit absolute or relative artifact directory.</summary>
    public sealed record Path : SnapshotDestination
    {
        /// <summary>Creates the destination.</summary>
        public Path(string value) => Value = value;

        /// <summary>The destination path.</summary>
        public string Value { get; init; }
    }
}
