using System.Globalization;

namespace Microsandbox.Host;

/// <summary>Facts about the host CPU the engines need: virtualisation flags, identity and the TSC frequency.</summary>
public static class HostCpu
{
    /// <summary>True when /proc/cpuinfo advertises VT-x (vmx) or AMD-V (svm).</summary>
    public static bool HasVirtualizationExtensions() =>
        FirstCpuField("flags")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { } flags && (flags.Contains("vmx") || flags.Contains("svm"));

    /// <summary>
    /// The first CPU's model name and feature flags from /proc/cpuinfo: what a guest run with <c>-cpu host</c> sees,
    /// so state saved on one CPU is not resumed on another ("|" when unknown).
    /// </summary>
    public static string Identity() => $"{FirstCpuField("model name")}|{FirstCpuField("flags")}";

    /// <summary>The host TSC frequency in kHz from /proc/cpuinfo's "cpu MHz" (0 when unknown).</summary>
    public static ulong TscKhz() =>
        double.TryParse(FirstCpuField("cpu MHz"), NumberStyles.Float, CultureInfo.InvariantCulture, out var mhz) ? (ulong)Math.Round(mhz * 1000) : 0;

    // The value of the first "NAME<tabs>: value" line of /proc/cpuinfo (the first CPU's), or null.
    private static string? FirstCpuField(string name)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line.AsSpan(0, colon).Trim().SequenceEqual(name)) return line[(colon + 1)..].Trim();
            }
        }
        catch (IOException) { }
        return null;
    }
}
