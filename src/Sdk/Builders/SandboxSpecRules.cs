using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>
/// Whole-spec validation run by <see cref="SandboxBuilder.Build"/>, in upstream's order: name, hostname,
/// resources, root filesystem, rlimits, mounts, env, labels, default command, init, then checks that
/// need the whole mount and patch lists.
/// </summary>
internal static class SandboxSpecRules
{
    /// <summary>Throws <see cref="InvalidConfigException"/> for the first broken rule.</summary>
    public static void Validate(SandboxSpec spec)
    {
        if (spec.Name.Length == 0)
        {
            throw new InvalidConfigException("sandbox name is required");
        }
        SandboxRules.ValidateSandboxName(spec.Name);
        SandboxRules.ValidateHostname(spec.Runtime.Hostname);
        if (spec.Resources.Cpus == 0)
        {
            throw new InvalidConfigException("cpus must be greater than 0");
        }
        if (spec.Resources.MemoryMib == 0)
        {
            throw new InvalidConfigException("memory must be greater than 0");
        }

        switch (spec.Image)
        {
            case RootfsSource.Oci { Source.Reference.Length: 0 }:
                throw new InvalidConfigException("image source is required");
            case RootfsSource.Oci { Source.UpperSizeMib: 0 }:
                throw new InvalidConfigException("root disk size must be greater than 0");
            case RootfsSource.DiskImage when spec.Patches.Count > 0:
                throw new InvalidConfigException("patches are not compatible with disk image rootfs");
            case RootfsSource.DiskImage disk when disk.Fstype is not null:
                MountRules.ValidateFstype(disk.Fstype);
                break;
        }

        foreach (var rlimit in spec.Rlimits)
        {
            if (rlimit.Soft > rlimit.Hard)
            {
                throw new InvalidConfigException(
                    $"rlimit {rlimit.Resource.AsStr()}: soft ({rlimit.Soft}) must not exceed hard ({rlimit.Hard})");
            }
        }

        MountRules.ValidateAll(spec.Mounts);
        foreach (var variable in spec.Env)
        {
            SandboxRules.ValidateEnvKey(variable.Key);
        }
        foreach (var key in spec.Labels.Keys)
        {
            SandboxRules.ValidateLabelKey(key);
        }
        ValidateDefaultCommand(spec.Runtime.Entrypoint, spec.Runtime.Cmd);
        if (spec.Init is { } init)
        {
            SandboxRules.ValidateInit(init.Cmd, init.Args, init.Env.Select(p => KeyValuePair.Create(p.Key, p.Value)));
        }
        foreach (var name in spec.Runtime.Scripts.Keys)
        {
            SandboxRules.ValidateScriptName(name);
        }
        if (spec.Network.MaxConnections is > NetworkBuilder.MaxNetworkConnections)
        {
            throw new InvalidConfigException(
                $"max_connections {spec.Network.MaxConnections} exceeds hard limit {NetworkBuilder.MaxNetworkConnections}");
        }
        ValidateDistinctDiskImages(spec.Mounts);
        foreach (var patch in spec.Patches)
        {
            ValidatePatchPath(PatchGuestPath(patch));
        }
    }

    /// <summary>
    /// An entrypoint or cmd, when non-empty, needs a non-empty executable and no NUL bytes
    /// (upstream <c>resolve_default_command</c>; having no default command at all is allowed here).
    /// </summary>
    private static void ValidateDefaultCommand(IReadOnlyList<string>? entrypoint, IReadOnlyList<string>? cmd)
    {
        if (entrypoint is { Count: > 0 })
        {
            ValidateTokens("entrypoint", entrypoint);
        }
        if (cmd is { Count: > 0 })
        {
            ValidateTokens("cmd", cmd);
        }
    }

    private static void ValidateTokens(string origin, IReadOnlyList<string> tokens)
    {
        if (tokens[0].Length == 0)
        {
            throw new InvalidConfigException($"{origin} executable must not be empty");
        }
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Contains('\0'))
            {
                throw new InvalidConfigException($"{origin} token at index {i} contains a NUL byte");
            }
        }
    }

    /// <summary>
    /// Two virtio-blk devices over one image file would cache it independently and diverge. Upstream compares
    /// canonical paths; builders never touch the disk, so this compares lexically normalised absolute paths.
    /// </summary>
    private static void ValidateDistinctDiskImages(IEnumerable<VolumeMount> mounts)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var disk in mounts.OfType<VolumeMount.DiskImage>())
        {
            var normalized = Path.GetFullPath(disk.Host);
            if (!seen.Add(normalized))
            {
                throw new InvalidConfigException($"disk-image volumes cannot share the same host path: {normalized}");
            }
        }
    }

    private static string PatchGuestPath(Patch patch) => patch switch
    {
        Patch.Text p => p.Path,
        Patch.File p => p.Path,
        Patch.CopyFile p => p.Dst,
        Patch.CopyDir p => p.Dst,
        Patch.Symlink p => p.Link,
        Patch.Mkdir p => p.Path,
        Patch.Remove p => p.Path,
        Patch.Append p => p.Path,
        _ => throw new ArgumentOutOfRangeException(nameof(patch), patch, "unknown patch kind"),
    };

    /// <summary>A patch target must be absolute, not <c>/</c>, and must not climb out with <c>..</c>.</summary>
    private static void ValidatePatchPath(string guestPath)
    {
        if (!guestPath.StartsWith('/'))
        {
            throw new InvalidConfigException($"patch path must be absolute: '{guestPath}'");
        }
        var components = guestPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (guestPath.Length == 1)
        {
            throw new InvalidConfigException("patch path must not be '/'");
        }
        if (components.Contains(".."))
        {
            throw new InvalidConfigException($"patch path escapes rootfs: '{guestPath}'");
        }
    }
}
