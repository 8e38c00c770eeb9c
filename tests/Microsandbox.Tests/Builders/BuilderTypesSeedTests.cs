using Microsandbox.Spec;

namespace Microsandbox.Tests.Builders;

/// <summary>
/// Ports of every <c>#[test]</c> in microsandbox 0.5.4 <c>sandbox/types.rs</c> (the builder-types seed),
/// same inputs, same expected results and error text. The three JSON tests live in
/// <see cref="BuilderTypesSeedJsonTests"/>.
/// </summary>
public class BuilderTypesSeedTests
{
    [Fact]
    public void Disk_image_format_from_extension()
    {
        Assert.Equal(DiskImageFormat.Qcow2, DiskImageFormatExtensions.FromExtension("qcow2"));
        Assert.Equal(DiskImageFormat.Raw, DiskImageFormatExtensions.FromExtension("raw"));
        Assert.Equal(DiskImageFormat.Vmdk, DiskImageFormatExtensions.FromExtension("vmdk"));
        Assert.Null(DiskImageFormatExtensions.FromExtension("ext4"));
        Assert.Null(DiskImageFormatExtensions.FromExtension(""));
    }

    [Fact]
    public void Disk_image_format_display_roundtrip()
    {
        foreach (var format in new[] { DiskImageFormat.Qcow2, DiskImageFormat.Raw, DiskImageFormat.Vmdk })
        {
            var text = format.AsStr();
            Assert.Equal(format, DiskImageFormatExtensions.Parse(text));
        }
    }

    [Fact]
    public void Disk_image_format_from_str_unknown()
    {
        Assert.Throws<FormatException>(() => DiskImageFormatExtensions.Parse("ext4"));
    }

    // ---- MountBuilder validation ----

    [Fact]
    public void Mount_builder_size_rejected_on_disk()
    {
        var error = Assert.Throws<InvalidConfigException>(() =>
            new MountBuilder("/data").Disk("/host/data.qcow2").Size(64).Build());
        Assert.Contains(".size() is only valid for tmpfs", error.Message);
    }

    [Fact]
    public void Mount_builder_size_rejected_on_bind()
    {
        var error = Assert.Throws<InvalidConfigException>(() =>
            new MountBuilder("/data").Bind("/host/data").Size(64).Build());
        Assert.Contains(".size() is only valid for tmpfs", error.Message);
    }

    [Fact]
    public void Mount_builder_format_rejected_on_non_disk()
    {
        var error = Assert.Throws<InvalidConfigException>(() =>
            new MountBuilder("/data").Bind("/host/data").Format(DiskImageFormat.Qcow2).Build());
        Assert.Contains(".format() is only valid for disk image mounts", error.Message);
    }

    [Fact]
    public void Mount_builder_fstype_rejected_on_non_disk()
    {
        var error = Assert.Throws<InvalidConfigException>(() =>
            new MountBuilder("/data").Tmpfs().Fstype("ext4").Build());
        Assert.Contains(".fstype() is only valid for disk image mounts", error.Message);
    }

    [Fact]
    public void Mount_builder_accepts_valid_named_volume()
    {
        var mount = new MountBuilder("/data").Named("cache_1").Build();
        var named = Assert.IsType<VolumeMount.Named>(mount);
        Assert.Equal("cache_1", named.Name);
        Assert.Equal("/data", named.Guest);
    }

    [Fact]
    public void Mount_builder_rejects_invalid_named_volume()
    {
        var error = Assert.Throws<InvalidConfigException>(() =>
            new MountBuilder("/data").Named("cache/../../secrets").Build());
        Assert.Contains("volume name", error.Message);
    }

    [Fact]
    public void Validate_volume_mounts_rejects_direct_guest_separators()
    {
        var mount = new VolumeMount.Tmpfs { Guest = "/data,ro", SizeMib = null, Options = new MountOptions() };
        var error = Assert.Throws<InvalidConfigException>(() => MountRules.ValidateAll([mount]));
        Assert.Contains("guest mount path", error.Message);
    }

    [Fact]
    public void Validate_volume_mounts_rejects_direct_disk_host_separators()
    {
        var mount = new VolumeMount.DiskImage
        {
            Host = "/host/data:ro.raw",
            Guest = "/data",
            Format = DiskImageFormat.Raw,
            Fstype = null,
            Options = new MountOptions(),
        };
        var error = Assert.Throws<InvalidConfigException>(() => MountRules.ValidateAll([mount]));
        Assert.Contains("disk image host path", error.Message);
    }

    [Fact]
    public void Validate_volume_mounts_rejects_direct_empty_fstype()
    {
        var mount = new VolumeMount.DiskImage
        {
            Host = "/host/data.raw",
            Guest = "/data",
            Format = DiskImageFormat.Raw,
            Fstype = "",
            Options = new MountOptions(),
        };
        var error = Assert.Throws<InvalidConfigException>(() => MountRules.ValidateAll([mount]));
        Assert.Contains("fstype must not be empty", error.Message);
    }

    [Fact]
    public void Validate_volume_mounts_rejects_direct_off_mirror()
    {
        var mount = new VolumeMount.Bind
        {
            Host = "/host/data",
            Guest = "/data",
            Options = new MountOptions(),
            StatVirtualization = StatVirtualization.Off,
            HostPermissions = HostPermissions.Mirror,
        };
        var error = Assert.Throws<InvalidConfigException>(() => MountRules.ValidateAll([mount]));
        Assert.Contains("stat_virtualization=Off", error.Message);
    }

    [Fact]
    public void Mount_builder_disk_then_format_overrides_inference()
    {
        // .Disk(qcow2 path) would infer Qcow2; .Format(Raw) afterwards must win.
        var mount = new MountBuilder("/data").Disk("/host/data.qcow2").Format(DiskImageFormat.Raw).Build();
        Assert.Equal(DiskImageFormat.Raw, Assert.IsType<VolumeMount.DiskImage>(mount).Format);
    }

    [Fact]
    public void Mount_builder_format_before_disk_still_overrides()
    {
        // Call order does not matter on the disk path.
        var mount = new MountBuilder("/data").Format(DiskImageFormat.Vmdk).Disk("/host/data.qcow2").Build();
        Assert.Equal(DiskImageFormat.Vmdk, Assert.IsType<VolumeMount.DiskImage>(mount).Format);
    }

    [Theory]
    [InlineData("/host/data.qcow2", DiskImageFormat.Qcow2)]
    [InlineData("/host/data.vmdk", DiskImageFormat.Vmdk)]
    [InlineData("/host/data.raw", DiskImageFormat.Raw)]
    [InlineData("/host/data.img", DiskImageFormat.Raw)] // unknown extension falls back to raw
    public void Mount_builder_disk_extension_inference(string path, DiskImageFormat expected)
    {
        var mount = new MountBuilder("/data").Disk(path).Build();
        Assert.Equal(expected, Assert.IsType<VolumeMount.DiskImage>(mount).Format);
    }

    // ---- ImageSource resolution ----

    [Fact]
    public void Image_source_resolves_qcow2()
    {
        var rootfs = ImageSource.FromText("./disk.qcow2").ToRootfsSource();
        Assert.Equal(DiskImageFormat.Qcow2, Assert.IsType<RootfsSource.DiskImage>(rootfs).Format);
    }

    [Fact]
    public void Image_source_resolves_raw()
    {
        var rootfs = ImageSource.FromText("/images/test.raw").ToRootfsSource();
        Assert.Equal(DiskImageFormat.Raw, Assert.IsType<RootfsSource.DiskImage>(rootfs).Format);
    }

    [Fact]
    public void Image_source_resolves_directory_as_bind()
    {
        var rootfs = ImageSource.FromText("./rootfs").ToRootfsSource();
        Assert.IsType<RootfsSource.Bind>(rootfs);
    }

    [Fact]
    public void Image_source_resolves_dot_as_bind()
    {
        var rootfs = ImageSource.FromText(".").ToRootfsSource();
        Assert.Equal(".", Assert.IsType<RootfsSource.Bind>(rootfs).Path);
    }

    [Fact]
    public void Image_source_resolves_dot_dot_as_bind()
    {
        var rootfs = ImageSource.FromText("..").ToRootfsSource();
        Assert.Equal("..", Assert.IsType<RootfsSource.Bind>(rootfs).Path);
    }

    [Fact]
    public void Image_source_resolves_oci_reference()
    {
        var rootfs = ImageSource.FromText("python").ToRootfsSource();
        var oci = Assert.IsType<RootfsSource.Oci>(rootfs);
        Assert.Equal("python", oci.Source.Reference);
        Assert.Null(oci.Source.UpperSizeMib);
    }

    // ---- ImageBuilder ----

    [Fact]
    public void Image_builder_oci_with_upper_size()
    {
        var rootfs = new ImageBuilder().Oci("python:3.12").UpperSize(8192).Build();
        var oci = Assert.IsType<RootfsSource.Oci>(rootfs);
        Assert.Equal("python:3.12", oci.Source.Reference);
        Assert.Equal(8192u, oci.Source.UpperSizeMib);
    }

    [Fact]
    public void Image_builder_upper_size_requires_oci()
    {
        var error = Assert.Throws<InvalidConfigException>(() => new ImageBuilder().UpperSize(8192).Build());
        Assert.Contains("upper_size() requires oci()", error.Message);
    }

    [Fact]
    public void Image_builder_disk_with_fstype()
    {
        var rootfs = new ImageBuilder().Disk("./test.qcow2").Fstype("ext4").Build();
        var disk = Assert.IsType<RootfsSource.DiskImage>(rootfs);
        Assert.Equal(DiskImageFormat.Qcow2, disk.Format);
        Assert.Equal("ext4", disk.Fstype);
    }

    [Fact]
    public void Image_builder_disk_without_fstype()
    {
        var rootfs = new ImageBuilder().Disk("./test.raw").Build();
        var disk = Assert.IsType<RootfsSource.DiskImage>(rootfs);
        Assert.Equal(DiskImageFormat.Raw, disk.Format);
        Assert.Null(disk.Fstype);
    }

    [Fact]
    public void Image_builder_bad_extension_errors()
    {
        Assert.Throws<InvalidConfigException>(() => new ImageBuilder().Disk("./test.txt").Build());
    }

    [Fact]
    public void Image_builder_fstype_without_disk_errors()
    {
        Assert.Throws<InvalidConfigException>(() => new ImageBuilder().Fstype("ext4").Build());
    }

    [Fact]
    public void Image_builder_fstype_rejects_comma()
    {
        Assert.Throws<InvalidConfigException>(() => new ImageBuilder().Disk("./test.qcow2").Fstype("ext4,size=100").Build());
    }

    [Fact]
    public void Image_builder_fstype_rejects_equals()
    {
        Assert.Throws<InvalidConfigException>(() => new ImageBuilder().Disk("./test.qcow2").Fstype("key=value").Build());
    }
}
