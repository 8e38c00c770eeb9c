using Microsandbox.Host;

namespace Microsandbox.Tests.Krun;

/// <summary>What <see cref="HostCpu"/> reads from /proc/cpuinfo, checked against the file itself.</summary>
public sealed class HostCpuTests
{
    [Fact]
    public void Flags_identity_and_tsc_come_from_the_first_cpu_of_proc_cpuinfo()
    {
        if (!File.Exists("/proc/cpuinfo")) Assert.Skip("no /proc/cpuinfo on this host");
        var firstCpu = File.ReadAllText("/proc/cpuinfo").Split("\n\n")[0].Split('\n')
            .Where(l => l.Contains(':', StringComparison.Ordinal))
            .GroupBy(l => l[..l.IndexOf(':', StringComparison.Ordinal)].Trim())
            .ToDictionary(g => g.Key, g => g.First()[(g.First().IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());

        var flags = firstCpu.GetValueOrDefault("flags", "").Split(' ');
        Assert.Equal(flags.Contains("vmx") || flags.Contains("svm"), HostCpu.HasVirtualizationExtensions());
        Assert.Equal($"{firstCpu.GetValueOrDefault("model name")}|{firstCpu.GetValueOrDefault("flags")}", HostCpu.Identity());
        if (firstCpu.TryGetValue("cpu MHz", out var mhz))
            Assert.Equal((ulong)Math.Round(double.Parse(mhz, System.Globalization.CultureInfo.InvariantCulture) * 1000), HostCpu.TscKhz());
        else
            Assert.Equal(0ul, HostCpu.TscKhz());
    }
}
