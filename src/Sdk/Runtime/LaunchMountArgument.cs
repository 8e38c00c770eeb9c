namespace Microsandbox.Runtime;

/// <summary>
/// The string forms upstream's launch config uses for shares and disks: <c>TAG:HOST[:opt,opt…]</c> and
/// <c>ID:HOST:FORMAT[:ro]</c>. Host paths may contain colons, so options are only recognised in the last segment, and
/// only when it reads as options (known flags, or <c>key=value</c>); those are then checked strictly, with the error
/// texts of upstream's <c>parse_mount_spec</c> (runtime 0.5.1 <c>vm.rs</c>, whose grammar put them after a comma).
/// </summary>
internal static class LaunchMountArgument
{
    /// <summary>A directory share.</summary>
    public sealed record Directory(string Tag, string HostPath, bool Readonly, IReadOnlyList<string> Options)
    {
        /// <summary><c>stat-virt=</c>: strict (default), relaxed or off.</summary>
        public Spec.StatVirtualization StatVirtualization { get; init; } = Spec.StatVirtualization.Strict;

        /// <summary><c>host-perms=</c>: private (default) or mirror.</summary>
        public Spec.HostPermissions HostPermissions { get; init; } = Spec.HostPermissions.Private;

        /// <summary><c>quota=</c> in MiB, when given.</summary>
        public uint? QuotaMib { get; init; }
    }

    /// <summary>A block device.</summary>
    public sealed record Disk(string Id, string HostPath, string Format, bool Readonly);

    private static readonly string[] Flags = ["ro", "rw", "noexec", "nosuid", "nodev", "follow-root-symlinks"];

    /// <summary>Formats a directory share.</summary>
    public static string FormatDirectory(string tag, string hostPath, IEnumerable<string> options)
    {
        var opts = options.ToList();
        return opts.Count == 0 ? $"{tag}:{hostPath}" : $"{tag}:{hostPath}:{string.Join(',', opts)}";
    }

    /// <summary>Parses a directory share.</summary>
    /// <exception cref="MicrosandboxException">The argument breaks the grammar; the message says how.</exception>
    public static Directory ParseDirectory(string value)
    {
        int first = value.IndexOf(':', StringComparison.Ordinal);
        if (first < 0) throw Invalid(value, $"expected tag:host_path[:opts] shape, got {Quoted(value)}");
        var tag = value[..first];
        if (tag.Length == 0) throw Invalid(value, $"empty tag in mount spec {Quoted(value)}");
        var rest = value[(first + 1)..];
        var options = new List<string>();
        int last = rest.LastIndexOf(':');
        if (last >= 0 && LooksLikeOptions(rest[(last + 1)..]))
        {
            options.AddRange(rest[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            rest = rest[..last];
        }
        if (rest.Length == 0) throw Invalid(value, $"empty host path in mount spec {Quoted(value)}");
        var share = new Directory(tag, rest, options.Contains("ro"), options);
        bool seenStatVirt = false, seenHostPerms = false, seenQuota = false;
        foreach (var option in options)
        {
            int eq = option.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0) continue; // a flag: LooksLikeOptions admitted only known ones
            var (key, setting) = (option[..eq], option[(eq + 1)..]);
            switch (key)
            {
                case "stat-virt":
                    Once(ref seenStatVirt, key, value);
                    share = share with
                    {
                        StatVirtualization = setting switch
                        {
                            "strict" => Spec.StatVirtualization.Strict,
                            "relaxed" => Spec.StatVirtualization.Relaxed,
                            "off" => Spec.StatVirtualization.Off,
                            _ => throw Invalid(value, $"invalid stat-virt {Quoted(setting)} (expected strict|relaxed|off)"),
                        },
                    };
                    break;
                case "host-perms":
                    Once(ref seenHostPerms, key, value);
                    share = share with
                    {
                        HostPermissions = setting switch
                        {
                            "private" => Spec.HostPermissions.Private,
                            "mirror" => Spec.HostPermissions.Mirror,
                            _ => throw Invalid(value, $"invalid host-perms {Quoted(setting)} (expected private|mirror)"),
                        },
                    };
                    break;
                case "quota":
                    Once(ref seenQuota, key, value);
                    share = share with
                    {
                        QuotaMib = uint.TryParse(setting, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var mib) && mib > 0
                            ? mib
                            : throw Invalid(value, $"invalid quota {Quoted(setting)} (expected a positive number of MiB)"),
                    };
                    break;
                default:
                    throw Invalid(value, $"unknown mount option {Quoted(key)}");
            }
        }
        return share;
    }

    private static void Once(ref bool seen, string key, string value)
    {
        if (seen) throw Invalid(value, $"mount option `{key}` specified more than once");
        seen = true;
    }

    private static bool LooksLikeOptions(string segment) =>
        segment.Length > 0 && segment.Split(',').All(o => Flags.Contains(o.Trim()) || o.Contains('=', StringComparison.Ordinal));

    // Rust's {:?} of a string: double quotes, with quotes and backslashes escaped.
    private static string Quoted(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static MicrosandboxException Invalid(string value, string reason) => new($"--mount {Quoted(value)}: {reason}");

    /// <summary>Formats a disk.</summary>
    public static string FormatDisk(string id, string hostPath, string format, bool readOnly) =>
        readOnly ? $"{id}:{hostPath}:{format}:ro" : $"{id}:{hostPath}:{format}";

    /// <summary>Parses a disk; the format must be one upstream knows (raw, qcow2, vmdk).</summary>
    /// <exception cref="MicrosandboxException">The argument breaks the grammar or names an unknown format.</exception>
    public static Disk ParseDisk(string value)
    {
        int first = value.IndexOf(':', StringComparison.Ordinal);
        if (first <= 0) throw new MicrosandboxException($"invalid disk argument '{value}': expected ID:HOST:FORMAT[:ro]");
        var id = value[..first];
        var rest = value[(first + 1)..];
        bool ro = false;
        if (rest.EndsWith(":ro", StringComparison.Ordinal))
        {
            ro = true;
            rest = rest[..^3];
        }
        int last = rest.LastIndexOf(':');
        if (last <= 0) throw new MicrosandboxException($"invalid disk argument '{value}': expected ID:HOST:FORMAT[:ro]");
        var format = rest[(last + 1)..];
        if (!Spec.DiskImageFormatExtensions.TryParse(format, out _))
            throw new MicrosandboxException($"disk format: unknown disk image format: {format}");
        return new Disk(id, rest[..last], format, ro);
    }
}
