namespace Microsandbox.Runtime;

/// <summary>
/// The string forms upstream's launch config uses for shares and disks: <c>TAG:HOST[:opt,opt…]</c> and
/// <c>ID:HOST:FORMAT[:ro]</c>. Host paths may contain colons, so options are only recognised in the last segment.
/// </summary>
internal static class LaunchMountArgument
{
    /// <summary>A directory share.</summary>
    public sealed record Directory(string Tag, string HostPath, bool Readonly, IReadOnlyList<string> Options);

    /// <summary>A block device.</summary>
    public sealed record Disk(string Id, string HostPath, string Format, bool Readonly);

    private static readonly string[] KnownDirOptions = ["ro", "rw", "noexec", "nosuid", "nodev", "follow-root-symlinks"];

    /// <summary>Formats a directory share.</summary>
    public static string FormatDirectory(string tag, string hostPath, IEnumerable<string> options)
    {
        var opts = options.ToList();
        return opts.Count == 0 ? $"{tag}:{hostPath}" : $"{tag}:{hostPath}:{string.Join(',', opts)}";
    }

    /// <summary>Parses a directory share.</summary>
    public static Directory ParseDirectory(string value)
    {
        int first = value.IndexOf(':', StringComparison.Ordinal);
        if (first <= 0) throw new MicrosandboxException($"invalid mount argument '{value}': expected TAG:HOST[:OPTIONS]");
        var tag = value[..first];
        var rest = value[(first + 1)..];
        var options = new List<string>();
        int last = rest.LastIndexOf(':');
        if (last > 0 && LooksLikeOptions(rest[(last + 1)..]))
        {
            options.AddRange(rest[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries));
            rest = rest[..last];
        }
        return new Directory(tag, rest, options.Contains("ro"), options);
    }

    private static bool LooksLikeOptions(string segment) =>
        segment.Split(',').All(o => KnownDirOptions.Contains(o) || o.Contains('=', StringComparison.Ordinal));

    /// <summary>Formats a disk.</summary>
    public static string FormatDisk(string id, string hostPath, string format, bool readOnly) =>
        readOnly ? $"{id}:{hostPath}:{format}:ro" : $"{id}:{hostPath}:{format}";

    /// <summary>Parses a disk.</summary>
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
        return new Disk(id, rest[..last], rest[(last + 1)..], ro);
    }
}
