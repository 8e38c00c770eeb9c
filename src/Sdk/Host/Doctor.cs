using System.Diagnostics;
using Microsandbox.Engines;
using Microsandbox.Engines.Krun;
using Microsandbox.Engines.Qemu;
using Microsandbox.Runtime;

namespace Microsandbox.Host;

/// <summary>
/// Checks what each engine needs on this host — <c>msb</c> and libkrunfw, KVM (device, CPU flag, probe boot) for
/// libkrun; QEMU, the cached kernel/initramfs/root disks and our sandbox process for QEMU — and says, for every
/// "no", why and how to fix it.
/// </summary>
public static class Doctor
{
    /// <summary>Runs every check with this process's environment and the default asset locations.</summary>
    public static Task<DoctorReport> RunAsync(CancellationToken cancellationToken = default) =>
        RunAsync(new DoctorOptions(), cancellationToken);

    /// <summary>Runs every check with explicit locations (tests and <c>doctor --msb/--qemu-assets</c>).</summary>
    public static async Task<DoctorReport> RunAsync(DoctorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var environment = options.Environment ?? Environment.GetEnvironmentVariable;
        var location = await MsbLocator.LocateAsync(environment, cancellationToken).ConfigureAwait(false);
        var kvm = options.Kvm ?? await KvmProbe.ForAsync(options.QemuAssetsDirectory, null, cancellationToken).ConfigureAwait(false);
        var kvmChecks = KvmChecks(kvm);
        var krun = new DoctorEngineReport("krun", [.. KrunChecks(location), .. kvmChecks]);
        var qemu = new DoctorEngineReport("qemu", [.. await QemuChecksAsync(options.QemuAssetsDirectory, kvm, cancellationToken).ConfigureAwait(false)]);
        var auto = krun.CanRun
            ? $"Auto uses krun: msb {location.Version} is installed and KVM works"
            : qemu.CanRun
                ? $"Auto uses qemu ({(kvm.Usable ? "KVM" : "software emulation")}) because krun cannot run: {FirstProblem(krun)}"
                : "no engine can run here: fix one of the problems above";
        return new DoctorReport([krun, qemu], auto);
    }

    private static string FirstProblem(DoctorEngineReport report) =>
        report.Checks.FirstOrDefault(c => !c.Ok && c.Required)?.Detail ?? "unknown";

    private static IEnumerable<DoctorCheck> KrunChecks(MsbLocation location)
    {
        var install = MsbLocator.InstallHint;
        if (location.MsbPath is null)
        {
            yield return new DoctorCheck("msb found", false, location.Reason ?? "msb was not found", install);
            yield break;
        }
        yield return new DoctorCheck("msb found", true, $"{location.MsbPath} (via {location.MsbSource})");
        if (location.Version is null)
            yield return new DoctorCheck("msb version", false, location.Reason ?? "`msb --version` printed no version", "reinstall msb: " + install);
        else if (!location.IsPinnedVersion)
            yield return new DoctorCheck("msb version", true, $"{location.Version} (this toolkit is tested with {MicrosandboxDefaults.RuntimeVersion})",
                Required: false, Fix: $"install msb {MicrosandboxDefaults.RuntimeVersion} for a tested combination");
        else
            yield return new DoctorCheck("msb version", true, location.Version);
        yield return location.LibkrunfwPath is null
            ? new DoctorCheck("libkrunfw found", false, location.Reason ?? "libkrunfw was not found", "reinstall the npm platform package or set MSB_LIBKRUNFW_PATH")
            : new DoctorCheck("libkrunfw found", true, location.LibkrunfwPath);
    }

    private static IEnumerable<DoctorCheck> KvmChecks(KvmStatus kvm)
    {
        bool device = File.Exists("/dev/kvm");
        yield return device
            ? new DoctorCheck("/dev/kvm", true, "present")
            : new DoctorCheck("/dev/kvm", false, "/dev/kvm does not exist", "load the kvm module (modprobe kvm_intel or kvm_amd) or run on a host/VM with nested virtualisation enabled");
        bool flag = HostCpu.HasVirtualizationExtensions();
        yield return flag
            ? new DoctorCheck("CPU virtualisation flag", true, "vmx/svm present in /proc/cpuinfo")
            : new DoctorCheck("CPU virtualisation flag", false, "no vmx (VT-x) or svm (AMD-V) flag in /proc/cpuinfo: this CPU cannot run KVM guests",
                "enable VT-x/AMD-V in the firmware, or nested virtualisation on the hypervisor running this machine; otherwise use the QEMU engine");
        yield return kvm.Usable
            ? new DoctorCheck("KVM probe", true, kvm.Reason)
            : new DoctorCheck("KVM probe", false, kvm.Reason, device && flag
                ? "check that this user can open /dev/kvm (kvm group) and that the guest assets are found (the QEMU checks below)"
                : "fix the checks above; until then sandboxes run on QEMU");
    }

    private static async Task<IEnumerable<DoctorCheck>> QemuChecksAsync(string? assetsDirectory, KvmStatus kvm, CancellationToken cancellationToken)
    {
        var checks = new List<DoctorCheck>();
        var fromVariable = Environment.GetEnvironmentVariable(QemuAssets.QemuEnvironmentVariable);
        var qemu = string.IsNullOrEmpty(fromVariable) ? QemuAssets.FindOnPath("qemu-system-x86_64") : fromVariable;
        if (qemu is null || !File.Exists(qemu))
        {
            var where = string.IsNullOrEmpty(fromVariable) ? "qemu-system-x86_64 is not on PATH" : $"{QemuAssets.QemuEnvironmentVariable} names {fromVariable}, which does not exist";
            checks.Add(new DoctorCheck("QEMU found", false, where, $"{QemuAssets.QemuInstallCommand} (Debian/Ubuntu package qemu-system-x86)"));
            qemu = null;
        }
        else
        {
            var version = await FirstLineAsync(qemu, "--version", cancellationToken).ConfigureAwait(false);
            checks.Add(version is null
                ? new DoctorCheck("QEMU found", false, $"{qemu} did not answer --version", $"reinstall QEMU: {QemuAssets.QemuInstallCommand}")
                : new DoctorCheck("QEMU found", true, $"{qemu}: {version}"));
        }

        // The packaged assets are unpacked here if they were not yet: the doctor reports what a sandbox would boot.
        string dir = assetsDirectory ?? QemuAssets.DefaultDirectory, assetsProblem = "";
        string kernel = Path.Combine(dir, "vmlinux"), initrd = Path.Combine(dir, "initrd.cpio"), rootfs = Path.Combine(dir, "rootfs.ext4");
        try
        {
            var assets = QemuAssets.Locate(assetsDirectory, qemu ?? "/nonexistent/qemu-system-x86_64", null, cancellationToken);
            (dir, kernel, initrd, rootfs) = (assets.Directory, assets.Kernel, assets.Initrd, assets.DefaultRootfs);
        }
        catch (EngineUnavailableException e)
        {
            assetsProblem = e.Reason; // reported file by file below
        }
        var fix = assetsDirectory is not null
            ? "point --qemu-assets at a directory native/build.sh wrote"
            : AssetPackage.Guest.IsAvailable
                ? $"delete {dir} so that the {AssetPackage.Guest.AssemblyName} package unpacks it again ({assetsProblem})"
                : $"reference the {AssetPackage.Guest.AssemblyName} package (Microsandbox depends on it) or set {QemuAssets.AssetsEnvironmentVariable}";
        checks.Add(FileCheck("kernel cached", kernel, fix));
        checks.Add(FileCheck("initrd cached", initrd, fix));
        checks.Add(FileCheck("rootfs cached", rootfs, fix));
        var busybox = Path.Combine(dir, "busybox.raw");
        checks.Add(File.Exists(busybox)
            ? new DoctorCheck("busybox image cached", true, busybox, Required: false)
            : new DoctorCheck("busybox image cached", false, $"{busybox} is missing (BuiltinImages.Busybox needs it)", fix, Required: false));
        try
        {
            var program = SandboxProcessLocator.Locate();
            checks.Add(new DoctorCheck("sandbox process found", true, string.Join(' ', program)));
        }
        catch (MicrosandboxException e)
        {
            checks.Add(new DoctorCheck("sandbox process found", false, e.Message, "reference the Microsandbox.Cli project/package or set " + SandboxProcessLocator.EnvironmentVariable));
        }
        checks.Add(new DoctorCheck("accelerator", true, kvm.Usable ? "kvm" : $"tcg (software emulation: {kvm.Reason})", Required: false));
        return checks;
    }

    private static DoctorCheck FileCheck(string name, string path, string fix) =>
        File.Exists(path) ? new DoctorCheck(name, true, path) : new DoctorCheck(name, false, $"{path} is missing", fix);

    private static async Task<string?> FirstLineAsync(string program, string argument, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(psi);
            if (process is null) return null;
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            _ = process.StandardError.ReadToEndAsync(cancellationToken);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(15));
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                return null;
            }
            var line = (await stdout.ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim();
            return process.ExitCode == 0 ? line : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}

/// <summary>Where <see cref="Doctor"/> looks; every null means "as the SDK would".</summary>
/// <param name="Environment">Environment lookup for <c>MSB_PATH</c>, <c>MSB_HOME</c>, <c>PATH</c>… (default: this process's).</param>
/// <param name="QemuAssetsDirectory">QEMU asset directory (default: <see cref="QemuAssets.DefaultDirectory"/>).</param>
/// <param name="Kvm">A KVM verdict to use instead of probing (default: <see cref="KvmProbe.ForAsync(string?, string?, CancellationToken)"/>).</param>
public sealed record DoctorOptions(
    Func<string, string?>? Environment = null,
    string? QemuAssetsDirectory = null,
    KvmStatus? Kvm = null);
