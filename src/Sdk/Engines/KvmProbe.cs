using System.Collections.Concurrent;
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
    // One probe boot per QEMU binary and kernel, shared by every caller in the process.
    private static readonly ConcurrentDictionary<string, Lazy<Task<KvmStatus>>> Boots = new(StringComparer.Ordinal);

    // The device, CPU flag and open checks cannot change while the process runs: done once, not on every create.
    private static readonly Lazy<KvmStatus> StaticChecks = new(() => Probe(null));

    /// <summary>The verdict with the default QEMU and assets, for synchronous callers (blocks during a probe boot).</summary>
    public static KvmStatus Current => ForAsync(null, null).GetAwaiter().GetResult();

    /// <summary>
    /// The full check for the QEMU binary and assets a sandbox would use (null: the defaults): static checks, then a
    /// probe boot, done once per binary and kernel and awaited, never blocking a thread. Without assets KVM is not
    /// trusted: the device and CPU flag alone have proven wrong on hosts whose guests hang.
    /// </summary>
    /// <param name="assetsDirectory">The options' QEMU asset directory, or null.</param>
    /// <param name="qemuBinary">The options' QEMU binary, or null.</param>
    /// <param name="cancellationToken">Stops waiting (a probe boot that started finishes for the next caller).</param>
    public static Task<KvmStatus> ForAsync(string? assetsDirectory, string? qemuBinary, CancellationToken cancellationToken = default)
    {
        var quick = StaticChecks.Value;
        if (!quick.Usable) return Task.FromResult(quick);
        QemuAssets assets;
        try
        {
            assets = QemuAssets.Locate(assetsDirectory, qemuBinary, null, cancellationToken);
        }
        catch (EngineUnavailableException e)
        {
            return Task.FromResult(new KvmStatus(false, $"/dev/kvm and the CPU flag are present but no probe guest could be booted to prove KVM works ({e.Reason})"));
        }
        return Boots.GetOrAdd(assets.QemuBinary + "\n" + assets.Kernel, _ => new(() => ProbeBootAsync(assets))).Value.WaitAsync(cancellationToken);
    }

    /// <summary>The verdict for <paramref name="options"/>' QEMU binary and assets.</summary>
    public static Task<KvmStatus> ForAsync(SandboxOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return ForAsync(options.QemuAssetsDirectory, options.QemuBinary, cancellationToken);
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
        return ProbeBootAsync(assets).GetAwaiter().GetResult();
    }

    private static async Task<KvmStatus> ProbeBootAsync(QemuAssets assets)
    {
        // A kernel with no root panics at once; panic=-1 reboots and -no-reboot turns that into a clean QEMU exit.
        var psi = new ProcessStartInfo(assets.QemuBinary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-M", "microvm", "-accel", "kvm", "-cpu", "host", "-m", "128", "-nodefaults", "-no-user-config",
                     "-display", "none", "-no-reboot", "-kernel", assets.Kernel, "-append", "panic=-1 reboot=t quiet" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await p.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            return new KvmStatus(false, "a KVM probe guest did not finish within 15 s (KVM present but guests hang)");
        }
        await stdout.ConfigureAwait(false);
        return p.ExitCode == 0
            ? new KvmStatus(true, "a KVM probe guest booted and exited")
            : new KvmStatus(false, $"a KVM probe guest failed: {(await stderr.ConfigureAwait(false)).Trim()}");
    }
}

/// <summary>Whether KVM can run guests, and why (not).</summary>
/// <param name="Usable">True when KVM guests run.</param>
/// <param name="Reason">The evidence.</param>
public sealed record KvmStatus(bool Usable, string Reason);
