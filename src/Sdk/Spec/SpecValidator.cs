using System.Globalization;
using System.Text;

namespace Microsandbox.Spec;

/// <summary>
/// The checks upstream applies to a sandbox spec before it is created (sandbox name rules, hostname length,
/// non-zero resources, an image source, rlimit ordering), each reported with the JSON path of the offending field
/// and upstream's message text. Reading JSON does not apply these: serde accepts an empty name, for example.
/// </summary>
public static class SpecValidator
{
    /// <summary>Maximum UTF-8 byte length of a sandbox name.</summary>
    public const int MaxSandboxNameBytes = 128;

    /// <summary>Maximum UTF-8 byte length of a guest hostname (Linux <c>__NEW_UTS_LEN</c>).</summary>
    public const int MaxHostnameBytes = 64;

    /// <summary>Returns every rule the spec breaks; empty when it is valid.</summary>
    public static IReadOnlyList<SpecProblem> Validate(SandboxSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<SpecProblem>();
        if (NameProblem(spec.Name) is { } nameProblem) problems.Add(new SpecProblem("$.name", nameProblem));
        if (HostnameProblem(spec.Runtime.Hostname) is { } hostProblem) problems.Add(new SpecProblem("$.runtime.hostname", hostProblem));
        if (spec.Resources.Cpus == 0) problems.Add(new SpecProblem("$.resources.cpus", "cpus must be greater than 0"));
        if (spec.Resources.MemoryMib == 0) problems.Add(new SpecProblem("$.resources.memory_mib", "memory must be greater than 0"));
        switch (spec.Image)
        {
            case RootfsSource.Oci { Source.Reference.Length: 0 }:
                problems.Add(new SpecProblem("$.image.Oci.reference", "image source is required"));
                break;
            case RootfsSource.DiskImage when spec.Patches.Count > 0:
                problems.Add(new SpecProblem("$.patches", "patches are not compatible with disk image rootfs"));
                break;
        }
        for (int i = 0; i < spec.Rlimits.Count; i++)
        {
            var rlimit = spec.Rlimits[i];
            if (rlimit.Soft > rlimit.Hard)
            {
                problems.Add(new SpecProblem(
                    $"$.rlimits[{i}]",
                    $"rlimit {rlimit.Resource.AsStr()}: soft ({rlimit.Soft}) must not exceed hard ({rlimit.Hard})"));
            }
        }
        return problems;
    }

    /// <summary>Upstream's sandbox name rule: 1..128 bytes, ASCII alphanumerics, dots, hyphens, underscores, starting alphanumeric.</summary>
    /// <returns>The broken rule's message, or <see langword="null"/> when the name is valid.</returns>
    public static string? NameProblem(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0) return "sandbox name is required";
        int bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > MaxSandboxNameBytes)
            return string.Create(CultureInfo.InvariantCulture, $"sandbox name must be at most {MaxSandboxNameBytes} characters: got {bytes}");
        bool firstOk = char.IsAsciiLetterOrDigit(name[0]);
        bool charsetOk = name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
        return firstOk && charsetOk
            ? null
            : $"sandbox name must start with an alphanumeric and contain only alphanumeric, dots, hyphens, and underscores: {name}";
    }

    /// <summary>Upstream's hostname rule: when set, 1..64 bytes.</summary>
    /// <returns>The broken rule's message, or <see langword="null"/> when the hostname is valid or unset.</returns>
    public static string? HostnameProblem(string? hostname)
    {
        if (hostname is null) return null;
        if (hostname.Length == 0) return "hostname must not be empty";
        int bytes = Encoding.UTF8.GetByteCount(hostname);
        return bytes > MaxHostnameBytes
            ? string.Create(CultureInfo.InvariantCulture, $"hostname is too long: {bytes} bytes (max {MaxHostnameBytes})")
            : null;
    }
}
