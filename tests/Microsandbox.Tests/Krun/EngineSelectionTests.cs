using Microsandbox.Engines;
using Microsandbox.Engines.Krun;
using Microsandbox.Host;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsandbox.Tests.Krun;

/// <summary><see cref="EngineSelector"/> on this host: krun only with msb and working KVM, QEMU otherwise, always with a reason.</summary>
public sealed class EngineSelectionTests
{
    private static readonly SandboxOptions Options = new() { HomeDirectory = Path.GetTempPath() };

    [Fact]
    public void Forcing_krun_without_working_kvm_names_the_reason()
    {
        var kvm = KvmProbe.Current;
        if (kvm.Usable && KrunRuntime.Current.IsUsable) Assert.Skip("libkrun can run here; covered by Forcing_krun_with_msb_and_kvm_selects_it");

        var e = Assert.Throws<EngineUnavailableException>(() => EngineSelector.Select(Options with { Engine = EngineKind.Krun }, NullLogger.Instance));

        Assert.Equal("krun", e.Engine);
        Assert.Contains(KrunRuntime.Unavailable(KrunRuntime.Current, kvm)!, e.Message, StringComparison.Ordinal);
        if (!HostCpu.HasVirtualizationExtensions()) Assert.Contains("VT-x/AMD-V", e.Message, StringComparison.Ordinal);
        Assert.Contains("EngineKind.Qemu", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forcing_krun_with_msb_and_kvm_selects_it()
    {
        if (KrunRuntime.Unavailable(KrunRuntime.Current, KvmProbe.Current) is { } why) Assert.Skip($"libkrun cannot run here: {why}");

        var choice = EngineSelector.Select(Options with { Engine = EngineKind.Krun }, NullLogger.Instance);

        var engine = Assert.IsType<KrunEngine>(choice.Engine);
        Assert.Equal([KrunRuntime.Current.MsbPath!], engine.SandboxProcessProgram);
        Assert.Contains("libkrun requested explicitly", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_picks_krun_exactly_when_msb_is_installed_and_kvm_works()
    {
        bool krunPossible = KrunRuntime.Unavailable(KrunRuntime.Current, KvmProbe.Current) is null;
        EngineChoice choice;
        try
        {
            choice = EngineSelector.Select(Options with { Engine = EngineKind.Auto }, NullLogger.Instance);
        }
        catch (EngineUnavailableException e) when (!krunPossible)
        {
            Assert.Skip($"neither engine can run here: {e.Message}");
            return;
        }

        Assert.Equal(krunPossible ? "krun" : "qemu", choice.Engine.Name);
        if (!krunPossible)
        {
            Assert.Contains(KvmProbe.Current.Usable ? "libkrun cannot run" : "no usable hardware virtualisation", choice.Reason, StringComparison.Ordinal);
            Assert.Contains(KvmProbe.Current.Usable ? "QEMU with KVM" : "QEMU with software emulation", choice.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Kvm_is_only_trusted_after_the_static_checks_and_a_probe_boot()
    {
        var status = KvmProbe.Current;
        if (!File.Exists("/dev/kvm")) Assert.Contains("/dev/kvm does not exist", status.Reason, StringComparison.Ordinal);
        else if (!HostCpu.HasVirtualizationExtensions()) Assert.Contains("no VT-x/AMD-V", status.Reason, StringComparison.Ordinal);
        if (status.Usable) Assert.Equal("a KVM probe guest booted and exited", status.Reason);
    }

    [Fact]
    public void Krun_engine_refuses_an_unusable_runtime_location()
    {
        var missing = new MsbLocation(null, null, null, null, "msb was not found (looked in: /nowhere)", ["/nowhere"]);
        var e = Assert.Throws<EngineUnavailableException>(() => new KrunEngine(missing));
        Assert.Contains("msb was not found", e.Message, StringComparison.Ordinal);
        Assert.Equal("msb was not found (looked in: /nowhere)", KrunRuntime.Unavailable(missing, new KvmStatus(true, "probe ok")));
        var noLib = new MsbLocation("/usr/bin/msb", "PATH", null, "0.6.18", "libkrunfw was not found next to /usr/bin/msb", []);
        Assert.Contains("libkrunfw", KrunRuntime.Unavailable(noLib, new KvmStatus(true, "probe ok")), StringComparison.Ordinal);
        var ok = new MsbLocation("/usr/bin/msb", "PATH", "/usr/lib/libkrunfw.so.5", "0.6.18", null, []);
        Assert.Null(KrunRuntime.Unavailable(ok, new KvmStatus(true, "probe ok")));
        Assert.Equal("libkrun needs working KVM: no vmx", KrunRuntime.Unavailable(ok, new KvmStatus(false, "no vmx")));
    }

    [Fact]
    public async Task The_kvm_verdict_uses_the_options_qemu_and_assets_and_is_awaited()
    {
        // Where the static checks pass, the probe boot must use the options' assets: nonexistent ones cannot prove KVM.
        var verdict = await KvmProbe.ForAsync(Options with { QemuAssetsDirectory = "/nonexistent/assets", QemuBinary = "/nonexistent/qemu" }, TestContext.Current.CancellationToken);
        Assert.False(verdict.Usable);
        Assert.False(string.IsNullOrWhiteSpace(verdict.Reason));
        if (File.Exists("/dev/kvm") && HostCpu.HasVirtualizationExtensions())
            Assert.Contains("/nonexistent", verdict.Reason, StringComparison.Ordinal);
    }
}
