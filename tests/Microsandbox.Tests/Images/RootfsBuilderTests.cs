using Microsandbox.Engines.Qemu;
using Microsandbox.Images;

namespace Microsandbox.Tests.Images;

/// <summary>Root disks assembled from cached layers: content, sizing, and one build for concurrent callers.</summary>
public sealed class RootfsBuilderTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("msb-rootfs-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task Concurrent_builds_of_one_image_share_one_ext4_disk_holding_the_merged_tree()
    {
        if (QemuAssets.FindOnPath("mkfs.ext4") is null || QemuAssets.FindOnPath("debugfs") is null) Assert.Skip("e2fsprogs is not installed");
        var image = TestImage.MultiLayer();
        var layout = Path.Combine(_home, "layout");
        image.WriteLayout(layout);
        var cache = new ImageCache(_home);
        var loaded = (await LocalImageSource.LoadAsync(layout, cache, Ct))[0];

        var paths = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => new RootfsBuilder(cache).BuildAsync(loaded.Image, 64, Ct)));

        Assert.Single(paths.Distinct());
        Assert.Single(Directory.GetFiles(cache.RootfsDirectory));
        Assert.Empty(Directory.GetFileSystemEntries(cache.TempDirectory));
        var disk = paths[0];
        Assert.True(new FileInfo(disk).Length >= (64 + 64) * 1024L * 1024, "content plus the requested free space");
        Assert.Equal("kept\n", await LocalRegistry.RunAsync("debugfs", ["-R", "cat /data/kept.txt", disk]));
        Assert.Contains("new.txt", await LocalRegistry.RunAsync("debugfs", ["-R", "ls /data/opaque", disk]), StringComparison.Ordinal);
        Assert.DoesNotContain("old.txt", await LocalRegistry.RunAsync("debugfs", ["-R", "ls /data/opaque", disk]), StringComparison.Ordinal);
        var stat = await LocalRegistry.RunAsync("debugfs", ["-R", "stat /data/owned.txt", disk]);
        Assert.Contains("Mode:  04755", stat, StringComparison.Ordinal);
        if (FileSystemCalls.IsRoot) Assert.Contains("User:  1234   Group:  4321", stat, StringComparison.Ordinal);
        var tmp = await LocalRegistry.RunAsync("debugfs", ["-R", "stat /tmp", disk]);
        Assert.Contains("Mode:  01777", tmp, StringComparison.Ordinal);

        // A different free-space size is a different disk; the same one is reused.
        var bigger = await new RootfsBuilder(cache).BuildAsync(loaded.Image, 128, Ct);
        Assert.NotEqual(disk, bigger);
        Assert.Equal(disk, await new RootfsBuilder(cache).BuildAsync(loaded.Image, 64, Ct));
    }
}
