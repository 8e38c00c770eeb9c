using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>
/// Upstream's volume-mount validation (<c>validate_volume_mounts</c>): guest paths, host paths that must
/// survive the <c>tag:host[:opts]</c> wire grammar, fstype, and virtiofs policy combinations.
/// </summary>
internal static class MountRules
{
    /// <summary>Validates every mount in order, then rejects two mounts at the same guest path.</summary>
    public static void ValidateAll(IEnumerable<VolumeMount> mounts)
    {
        var guests = new HashSet<string>(StringComparer.Ordinal);
        foreach (var mount in mounts)
        {
            Validate(mount);
            if (!guests.Add(mount.Guest))
            {
                throw new InvalidConfigException($"multiple volumes cannot mount the same guest path: {mount.Guest}");
            }
        }
    }

    /// <summary>Validates one mount of any kind.</summary>
    public static void Validate(VolumeMount mount)
    {
        ValidateGuestPath(mount.Guest);
        switch (mount)
        {
            case VolumeMount.Bind bind:
                ValidateHostPathWireSafe(bind.Host, "bind host path");
                ValidateVirtiofsPolicies(bind.StatVirtualization, bind.HostPermissions);
                break;
            case VolumeMount.Named named:
                SandboxRules.ValidateVolumeName(named.Name);
                if (named.Create is { Kind: VolumeKind.Disk })
                {
                    ValidateNamedDiskPolicies(named.Name, named.StatVirtualization, named.HostPermissions);
                }
                else
                {
                    ValidateVirtiofsPolicies(named.StatVirtualization, named.HostPermissions);
                }
                break;
            case VolumeMount.Tmpfs:
                break;
            case VolumeMount.DiskImage disk:
                ValidateHostPathWireSafe(disk.Host, "disk image host path");
                if (disk.Fstype is not null)
                {
                    ValidateFstype(disk.Fstype);
                }
                break;
        }
    }

    /// <summary>A guest mount path must be absolute, not <c>/</c>, and free of <c>:</c>, <c>;</c>, <c>,</c>.</summary>
    public static void ValidateGuestPath(string guest)
    {
        if (!guest.StartsWith('/'))
        {
            throw new InvalidConfigException($"guest mount path must be absolute: {guest}");
        }
        if (guest == "/")
        {
            throw new InvalidConfigException("cannot mount a volume at guest root /");
        }
        if (guest.Contains(':') || guest.Contains(';') || guest.Contains(','))
        {
            throw new InvalidConfigException($"guest mount path must not contain ':', ';', or ',': {guest}");
        }
    }

    /// <summary>A host path must not contain the wire grammar's separators <c>,</c>, <c>:</c>, <c>;</c>.</summary>
    public static void ValidateHostPathWireSafe(string path, string label)
    {
        if (path.Contains(',') || path.Contains(':') || path.Contains(';'))
        {
            throw new InvalidConfigException($"{label} must not contain ',', ':', or ';': {path}");
        }
    }

    /// <summary>An fstype must be non-empty and free of mount-option syntax (<c>,</c> <c>;</c> <c>:</c> <c>=</c>).</summary>
    public static void ValidateFstype(string fstype)
    {
        if (FstypeError(fstype) is { } message)
        {
            throw new InvalidConfigException(message);
        }
    }

    /// <summary>The error an fstype breaks, or null when it is acceptable.</summary>
    public static string? FstypeError(string fstype)
    {
        if (fstype.Length == 0)
        {
            return "fstype must not be empty";
        }
        if (fstype.Contains(',') || fstype.Contains(';') || fstype.Contains(':') || fstype.Contains('='))
        {
            return $"fstype must not contain ',', ';', ':', or '=': {fstype}";
        }
        return null;
    }

    /// <summary>The message for the contradictory <c>Off</c> + <c>Mirror</c> policy pair.</summary>
    public const string OffMirrorMessage =
        "stat_virtualization=Off cannot be combined with host_permissions=Mirror: Off has no overlay, " +
        "so chmod already operates on the host inode and Mirror would be a no-op. Drop one or the other.";

    /// <summary>Rejects stat virtualization <c>Off</c> together with host permissions <c>Mirror</c>.</summary>
    public static void ValidateVirtiofsPolicies(StatVirtualization statVirtualization, HostPermissions hostPermissions)
    {
        if (statVirtualization == StatVirtualization.Off && hostPermissions == HostPermissions.Mirror)
        {
            throw new InvalidConfigException(OffMirrorMessage);
        }
    }

    /// <summary>Disk-backed named volumes are block devices: virtiofs policies must stay at their defaults.</summary>
    public static void ValidateNamedDiskPolicies(string name, StatVirtualization statVirtualization, HostPermissions hostPermissions)
    {
        if (statVirtualization != StatVirtualization.Strict)
        {
            throw new InvalidConfigException($"stat_virtualization is only valid for directory named volumes: {name}");
        }
        if (hostPermissions != HostPermissions.Private)
        {
            throw new InvalidConfigException($"host_permissions is only valid for directory named volumes: {name}");
        }
    }
}
