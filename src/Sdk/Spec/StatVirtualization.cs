namespace Microsandbox.Spec;

/// <summary>Stat virtualization policy of a virtiofs-backed mount. Wire form: <c>"strict"</c>, <c>"relaxed"</c>, <c>"off"</c>.</summary>
public enum StatVirtualization
{
    /// <summary>Fail closed: probe the host backing path and require xattr support.</summary>
    Strict,

    /// <summary>Apply the metadata overlay when present; tolerate missing xattr support.</summary>
    Relaxed,

    /// <summary>Literal host metadata: never read or apply the override xattr.</summary>
    Off,
}
