namespace Microsandbox.Spec;

/// <summary>Sandbox-time behaviour of a named volume mount. Wire form: <c>"Existing"</c>, <c>"Create"</c>, <c>"EnsureExists"</c>.</summary>
public enum NamedVolumeMode
{
    /// <summary>The volume must already exist.</summary>
    Existing,

    /// <summary>Create the volume; fail if it exists.</summary>
    Create,

    /// <summary>Create the volume, or reuse a compatible existing one.</summary>
    EnsureExists,
}
