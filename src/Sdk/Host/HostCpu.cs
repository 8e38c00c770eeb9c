using System.Globalization;

namespace Microsandbox.Host;

/// <summary>Facts about the host CPU the engines need: virtualisation flags and the TSC frequency.</summary>
public static class HostCpu
{
    /// <summary>True when /proc/cpuinfo advertises VT-x (vmx) or AMD-V (svm).</summary>
    public static bool HasVirtualizationExtensions()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (!line.StartsWith("flags", StringComparison.Ordinal)) continue;
                var flags = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return flags.Contains("vmx") || flags.Contains("svm");
            }
        }
        catch (IOException) { }
        return false;
    }

    /// <summary>
    /// The first CPU's model name and feature flags from /proc/cpuinfo: what a guest run with <c>-cpu host</c> sees,
    /// so state saved on one CPU is not resumed on another ("" when unknown).
    /// </summary>
    public static string Identity()
    {
        string? model = null, flags = null;
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (model is null && line.StartsWith("model name", StringComparison.Ordinal)) model = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                else if (flags is null && line.StartsWith("flags", StringComparison.Ordinal)) flags = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                if (model is not null && flags is not null) break;
            }
        }
        catch (IOException) { }
        return $"{model}|{flags}";
    }

    /// <summary>The host TSC frequency in kHz from /proc/cpuinfo's "cpu MHz" (0 when unknown).</summary>
    public static ulong TscKhz()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (!line.StartsWith("cpu MHz", StringComparison.Ordinal)) continue;
                var value = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var mhz))
                    return (ulong)Math.Round(mhz * 1000);
            }
        }
        catch (IOException) { }
        return 0;
    }
}
