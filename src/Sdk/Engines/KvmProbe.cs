using System.Diagnostics;
using Microsandbox.Engines.Qemu;
using Microsandbox.Host;

namespace Microsandbox.Engines;

/// <summary>
/// Decides whether hardware virtualisation really works here. The device node is not enough (these CI hosts have
/// <c>/dev/kvm</c> on a CPU without VT-x/AMD-V): KVM counts as usable only after a probe guest boots and exits.
/// </summary>
public static class KvmProbe
{
    private static readonly Lazy<KvmStatus> Cached = new(ProbeWithInstalledAssets);

    /// <summary>The result for this process (probed once, with a probe boot when the static checks pass).</summary>
    public static KvmStatus Current => Cached.Value;

    /// <summary>
    /// The full check: static checks, then a probe boot with the installed QEMU assets. Without the assets KVM is not
    /// trusted: the device and CPU flag alone have proven wrong on hosts whose guests hang.
    /// </summary>
    public static KvmStatus ProbeWithInstalledAssets()
    {
        var quick = Probe(null);
        if (!quick.Usable) return quick;
        QemuAssets assets;
        try
        {
            assets = QemuAssets.Locate();
        }
        catch (EngineUnavailableException e)
        {
            return new KvmStatus(false, $"/dev/kvm and the CPU flag are present but no probe guest could be booted to prove KVM works ({e.Reason})");
        }
        return ProbeBoot(assets);
    }

    /// <summary>Runs the checks; <paramref name="assets"/> enables the probe boot (without it, only static checks run).</summary>
    public static KvmStatus Probe(QemuAssets? assets)
    {
        if (!File.Exists("/dev/kvm"))
            // Without VT-x/AMD-V, loading a KVM module would not help: say so rather than only that the device is missing.
            return new KvmStatus(false, HostCpu.HasVirtualizationExtensions()
                ? "/dev/kvm does not exist (no KVM module or not a Linux host)"
                : "/dev/kvm does not exist and the CPU has no VT-x/AMD-V (no vmx/svm flag in /proc/cpuinfo), so no KVM guest can run");
        if (!HostCpu.HasVirtualizationExtensions())
            return new KvmStatus(false, "/dev/kvm exists but the CPU has no VT-x/AMD-V (no vmx/svm flag in /proc/cpuinfo), so no KVM guest can run");
        try
        {
            using var fs = new FileStream("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new KvmStatus(false, $"/dev/kvm cannot be opened ({e.Message}); add the user to the kvm group");
        }
        if (assets is null) return new KvmStatus(true, "/dev/kvm opens and the CPU has virtualisation extensions (not probe-booted)");
        return ProbeBoot(assets);
    }

    private static KvmStatus ProbeBoot(QemuAssets assets)
    {
        // A kernel with no root panics at once; panic=-1 reboots and -no-reboot turns that into a clean QEMU exit.
        var psi = new ProcessStartInfo(assets.QemuBinary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-M", "microvm", "-accel", "kvm", "-cpu", "host", "-m", "128", "-nodefaults", "-no-user-config",
                     "-display", "none", "-no-reboot", "-kernel", assets.Kernel, "-append", "panic=-1 reboot=t quiet" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(15)))
        {
            p.Kill(entireProcessTree: true);
            return new KvmStatus(false, "a KVM probe guest did not finish within 15 s (KVM present but guests hang)");
        }
        return p.ExitCode == 0
            ? new KvmStatus(true, "a KVM probe guest booted and exited")
            : new KvmStatus(false, $"a KVM probe guest failed: {stderr.Result.Trim()}");
    }
}

/// <summary>Whether KVM can run guests, and why (not).</summary>
/// <param name="Usable">True when KVM guests run.</param>
/// <param name="Reason">The evidence.</param>
public sealed record KvmStatus(bool Usable, string Reason);
