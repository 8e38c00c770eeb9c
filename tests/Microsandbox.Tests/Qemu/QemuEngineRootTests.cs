using Microsandbox.Engines.Qemu;

namespace Microsandbox.Tests.Qemu;

/// <summary>How the QEMU engine chooses the root it boots (the built-in image rides in the initramfs).</summary>
public sealed class QemuEngineRootTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("msb-qemu-root-");

    public void Dispose() => _dir.Delete(recursive: true);

    private Microsandbox.Runtime.LaunchConfig Complete(QemuEngine engine, Func<ImageBuilder, ImageBuilder> image) =>
        QemuLaunches.Complete(engine, _dir.FullName, "root-test", b => b.Image(image));

    [Fact]
    public void Builtin_image_boots_from_the_initramfs_that_carries_it()
    {
        var launch = Complete(QemuLaunches.Engine("/k/initrd-busybox.cpio"), BuiltinImages.Busybox);
        Assert.Null(launch.Rootfs.Disk);
        Assert.False(launch.Bootstrap.ContainsKey("block_root"));
        Assert.Equal("/k/initrd-busybox.cpio", launch.Qemu!.Initrd);
        var argv = QemuCommandLine.Build(launch, 1, 256, "/s/agent.sock", "/s/console.log");
        Assert.DoesNotContain(argv, a => a.Contains("id=rootfs", StringComparison.Ordinal));
    }

    [Fact]
    public void Builtin_image_falls_back_to_its_disk_when_the_build_made_no_busybox_initramfs()
    {
        var launch = Complete(QemuLaunches.Engine(null), BuiltinImages.Busybox);
        Assert.Equal(Path.GetFullPath(BuiltinImages.BusyboxDisk), Path.GetFullPath(launch.Rootfs.Disk!));
        Assert.Equal("disk-image", launch.Bootstrap["block_root"]!["kind"]!.GetValue<string>());
        Assert.Equal("/k/initrd.cpio", launch.Qemu!.Initrd);
    }

    [Fact]
    public void Other_disk_images_keep_their_disk_and_block_root()
    {
        var disk = Path.Combine(_dir.FullName, "mine.raw");
        File.WriteAllBytes(disk, new byte[4096]);
        var launch = Complete(QemuLaunches.Engine("/k/initrd-busybox.cpio"), i => i.Disk(disk).Fstype("ext4"));
        Assert.Equal(disk, launch.Rootfs.Disk);
        Assert.Equal("/k/initrd.cpio", launch.Qemu!.Initrd);
        var argv = QemuCommandLine.Build(launch, 1, 256, "/s/agent.sock", "/s/console.log");
        Assert.Contains(argv, a => a.StartsWith($"file={disk},", StringComparison.Ordinal));
    }
}
