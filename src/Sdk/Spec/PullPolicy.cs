namespace Microsandbox.Spec;

/// <summary>When an OCI registry is contacted for manifest freshness. Wire form: <c>"IfMissing"</c>, <c>"Always"</c>, <c>"Never"</c>.</summary>
public enum PullPolicy
{
    /// <summary>Use cached layers if complete, pull otherwise (the default).</summary>
    IfMissing,

    /// <summary>Always fetch the manifest, reusing cached layers whose digests still match.</summary>
    Always,

    /// <summary>Never contact the registry; fail if the image is not fully cached.</summary>
    Never,
}
