namespace Microsandbox.Spec;

/// <summary>Host permission propagation policy of a virtiofs-backed mount. Wire form: <c>"private"</c>, <c>"mirror"</c>.</summary>
public enum HostPermissions
{
    /// <summary>Guest chmod stays in the metadata overlay only.</summary>
    Private,

    /// <summary>Mirror ordinary rwx bits of regular files and directories to the host inode.</summary>
    Mirror,
}
