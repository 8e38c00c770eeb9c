using System.Diagnostics;
using Microsandbox.Engines;
using Microsandbox.Engines.Qemu;
using Microsandbox.Host;
using Microsandbox.State;

namespace Microsandbox.Tests.Vm;

/// <summary>Broken hosts and images fail fast with errors that say what and why, and leave nothing behind.</summary>
public sealed class BadInputTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("msb-bad-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static SandboxBuilder Busybox(string prefix) => new SandboxBuilder(VmEnvironment.UniqueName(prefix)).Image(BuiltinImages.Busybox);

    [Fact]
    public async Task Missing_qemu_names_the_package_and_the_fix()
    {
        var builder = Busybox("noqemu");
        var e = await Assert.ThrowsAsync<EngineUnavailableException>(() => Sandbox.CreateAsync(builder,
            VmEnvironment.Options(output) with { Engine = EngineKind.Qemu, QemuBinary = "/nonexistent/qemu-system-x86_64" }, Ct));
        Assert.Contains("qemu-system-x86", e.Message);
        Assert.Contains("sudo apt-get install -y --no-install-recommends qemu-system-x86", e.Message);
        await AssertNoRowAsync(builder.Build().Spec.Name);
    }

    [Fact]
    public async Task Missing_kernel_names_the_file_and_the_fix()
    {
        var builder = Busybox("nokernel");
        var e = await Assert.ThrowsAsync<EngineUnavailableException>(() => Sandbox.CreateAsync(builder,
            VmEnvironment.Options(output) with { Engine = EngineKind.Qemu, QemuAssetsDirectory = _dir }, Ct));
        Assert.Contains("guest kernel missing at " + Path.Combine(_dir, "vmlinux"), e.Message);
        Assert.Contains("point it at a directory native/build.sh wrote, or leave it unset to boot from the Microsandbox.Guest.linux-x64 package", e.Message);
        await AssertNoRowAsync(builder.Build().Spec.Name);
    }

    [Fact]
    public async Task A_corrupt_root_image_fails_with_the_guests_reason_and_leaves_nothing()
    {
        VmEnvironment.RequireVm();
        var disk = Path.Combine(_dir, "corrupt.raw");
        await File.WriteAllBytesAsync(disk, System.Security.Cryptography.RandomNumberGenerator.GetBytes(4 * 1024 * 1024), Ct);
        var name = VmEnvironment.UniqueName("corrupt");
        var sw = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<SandboxStartException>(() => Sandbox.CreateAsync(
            new SandboxBuilder(name).Image(i => i.Disk(disk).Fstype("ext4")), VmEnvironment.Options(output, TimeSpan.FromSeconds(30)), Ct));
        output.WriteLine($"failed after {sw.Elapsed}: {e.Message}");
        Assert.Contains("/dev/vda", e.Message); // the guest's own words about the root device
        await AssertNothingLeftAsync(name);
    }

    [Fact]
    public async Task A_guest_that_never_says_ready_times_out_and_leaves_nothing()
    {
        VmEnvironment.RequireVm();
        var assets = QemuAssets.Locate();
        // An initramfs whose /init never speaks the protocol: the real kernel boots it and it just sleeps.
        var silent = Path.Combine(_dir, "assets");
        Directory.CreateDirectory(silent);
        File.CreateSymbolicLink(Path.Combine(silent, "vmlinux"), assets.Kernel);
        File.CreateSymbolicLink(Path.Combine(silent, "rootfs.ext4"), assets.DefaultRootfs);
        File.CreateSymbolicLink(Path.Combine(silent, "libmsb-netfilter.so"), assets.NetFilter!);
        await BuildSleepingInitrdAsync(Path.Combine(silent, "initrd.cpio"));

        var name = VmEnvironment.UniqueName("silent");
        var sw = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<SandboxStartException>(() => Sandbox.CreateAsync(new SandboxBuilder(name).Image(BuiltinImages.Busybox),
            VmEnvironment.Options(output, TimeSpan.FromSeconds(8)) with { QemuAssetsDirectory = silent }, Ct));
        output.WriteLine($"failed after {sw.Elapsed}: {e.Message}");
        Assert.Contains("did not report ready within 8 s", e.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(40), $"took {sw.Elapsed}");
        await AssertNothingLeftAsync(name);
    }

    private async Task BuildSleepingInitrdAsync(string target)
    {
        var root = Path.Combine(_dir, "initrd-root");
        Directory.CreateDirectory(Path.Combine(root, "bin"));
        File.Copy("/bin/busybox", Path.Combine(root, "bin", "busybox"));
        await File.WriteAllTextAsync(Path.Combine(root, "init"), "#!/bin/busybox sh\n/bin/busybox sleep 600\n", Ct);
        File.SetUnixFileMode(Path.Combine(root, "init"), (UnixFileMode)0x1ed);
        var psi = new ProcessStartInfo("/usr/bin/cpio") { WorkingDirectory = root, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-o", "-H", "newc", "--quiet" }) psi.ArgumentList.Add(a);
        using var cpio = Process.Start(psi)!;
        var copy = Task.Run(async () =>
        {
            await using var f = File.Create(target);
            await cpio.StandardOutput.BaseStream.CopyToAsync(f, Ct);
        }, Ct);
        await cpio.StandardInput.WriteAsync("init\nbin\nbin/busybox\n");
        cpio.StandardInput.Close();
        await cpio.WaitForExitAsync(Ct);
        await copy;
        Assert.Equal(0, cpio.ExitCode);
    }

    private static async Task AssertNoRowAsync(string name)
    {
        await using var store = await StateStore.OpenAsync(VmEnvironment.Home, Ct);
        Assert.Null(await store.GetSandboxAsync(name, Ct));
    }

    private static async Task AssertNothingLeftAsync(string name)
    {
        await AssertNoRowAsync(name);
        Assert.Empty(LifecycleTests.QemuProcessesFor(name));
        Assert.False(Microsandbox.Spawn.LifecycleLock.IsHeld(new MicrosandboxHome(VmEnvironment.Home), name));
        Assert.False(Directory.Exists(new MicrosandboxHome(VmEnvironment.Home).SandboxDirectory(name)));
    }
}
