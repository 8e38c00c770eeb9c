namespace Microsandbox.Spec;

/// <summary>Sandbox-level in-guest security profile. Wire form: <c>"default"</c>, <c>"restricted"</c>.</summary>
public enum SecurityProfile
{
    /// <summary>Normal guest-root semantics: exec sessions keep <c>CAP_SYS_ADMIN</c> and may gain privileges.</summary>
    Default,

    /// <summary>Hardened exec sessions: <c>no_new_privs</c>, no <c>CAP_SYS_ADMIN</c>, <c>nosuid,nodev</c> on user mounts.</summary>
    Restricted,
}
