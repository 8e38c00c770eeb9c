using System.Security.Cryptography;
using System.Text.Json;
using Microsandbox.Engines;
using Microsandbox.Engines.Qemu;
using Microsandbox.Host;

namespace Microsandbox.Tests.Qemu;

/// <summary>The guest assets' unpack from the Microsandbox.Guest.linux-x64 assembly into a state directory's cache.</summary>
public sealed class GuestPackageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("msbgp-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Concurrent_first_uses_unpack_once_and_every_file_matches_the_manifest()
    {
        Assert.True(AssetPackage.Guest.IsAvailable, "the SDK's guest package is not beside the test assembly");
        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => AssetPackage.Guest.EnsureUnpacked(_root), TestContext.Current.CancellationToken)));

        var directory = Assert.Single(results.Distinct());
        Assert.NotNull(directory);
        Assert.Equal(AssetPackage.Guest.Directory(_root), directory);
        Assert.Single(Directory.GetDirectories(Path.Combine(_root, "guest"))); // no staging left behind
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "manifest.json")));
        foreach (var key in new[] { "kernel", "initrd", "initrd_busybox", "rootfs_ext4", "agent" })
        {
            var entry = manifest.RootElement.GetProperty("files").GetProperty(key);
            await using var file = File.OpenRead(Path.Combine(directory, entry.GetProperty("path").GetString()!));
            Assert.Equal(entry.GetProperty("sha256").GetString(), Convert.ToHexStringLower(await SHA256.HashDataAsync(file, TestContext.Current.CancellationToken)));
        }
        Assert.Equal("rootfs.ext4", new FileInfo(Path.Combine(directory, "busybox.raw")).LinkTarget);
        Assert.True(AssetPackage.IsComplete(directory));

        // The root disk is mostly empty: its holes stay holes (allocated blocks far below its length).
        var disk = new FileInfo(Path.Combine(directory, "rootfs.ext4"));
        Assert.True(AllocatedBytes(disk.FullName) < disk.Length / 4, $"rootfs.ext4 allocates {AllocatedBytes(disk.FullName)} of {disk.Length} bytes");
    }

    [Fact]
    public void A_damaged_unpack_is_replaced_and_a_truncated_file_is_noticed()
    {
        var target = AssetPackage.Guest.Directory(_root)!;
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "vmlinux"), "not a kernel"); // an interrupted copy: no unpack record
        Assert.False(AssetPackage.IsComplete(target));

        Assert.Equal(target, AssetPackage.Guest.EnsureUnpacked(_root, cancellationToken: TestContext.Current.CancellationToken));
        Assert.True(AssetPackage.IsComplete(target));
        Assert.NotEqual("not a kernel", File.ReadAllText(Path.Combine(target, "initrd.cpio"))[..12]);

        using (var kernel = new FileStream(Path.Combine(target, "vmlinux"), FileMode.Open)) kernel.SetLength(4096);
        Assert.False(AssetPackage.IsComplete(target));
    }

    [Fact]
    public void Missing_qemu_named_by_msb_qemu_is_reported_with_the_install_command()
    {
        var e = Assert.Throws<EngineUnavailableException>(() => QemuAssets.Locate(null, null, null, TestContext.Current.CancellationToken, qemuFromEnvironment: "/nonexistent/qemu-system-x86_64"));
        Assert.Contains("MSB_QEMU names /nonexistent/qemu-system-x86_64", e.Reason, StringComparison.Ordinal);
        Assert.Contains("sudo apt-get install -y --no-install-recommends qemu-system-x86", e.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null, false)]
    [InlineData("true", null, true)]
    [InlineData("1", null, true)]
    [InlineData("true", "0", false)]
    [InlineData(null, "1", true)]
    [InlineData("false", "yes", true)]
    [InlineData("", "", false)]
    public void An_engine_is_required_on_ci_unless_waived(string? ci, string? require, bool required) =>
        Assert.Equal(required, EngineRequirement.Decide(name => name switch { "CI" => ci, "MSB_REQUIRE_ENGINE" => require, _ => null }));

    private static long AllocatedBytes(string path)
    {
        var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%b %B", path]) { RedirectStandardOutput = true })!;
        var parts = stat.StandardOutput.ReadToEnd().Trim().Split(' ');
        stat.WaitForExit();
        return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) * long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
