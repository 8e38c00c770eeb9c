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
