using Microsandbox.Spec;

namespace Microsandbox.Tests.Builders;

public class ImageBuilderTests
{
    [Fact]
    public void Empty_builder_names_the_missing_source()
    {
        var error = Assert.Throws<InvalidConfigException>(() => new ImageBuilder().Build());
        Assert.Equal("ImageBuilder: no image source set (call .oci() or .disk())", error.Message);
    }

    [Fact]
    public void Bad_disk_extension_quotes_the_extension_like_upstream()
    {
        var error = Assert.Throws<InvalidConfigException>(() => new ImageBuilder().Disk("./test.txt").Build());
        Assert.Equal("unrecognized disk image extension: \"txt\" (expected .qcow2, .raw, or .vmdk)", error.Message);
    }

    [Fact]
    public void Disk_without_extension_reports_an_empty_extension()
    {
        var error = Assert.Throws<InvalidConfigException>(() => new ImageBuilder().Disk("/images/disk").Build());
        Assert.Equal("unrecognized disk image extension: \"\" (expected .qcow2, .raw, or .vmdk)", error.Message);
    }

    [Fact]
    public void Fstype_without_disk_names_the_order_rule()
    {
        var error = Assert.Throws<InvalidConfigException>(() => new ImageBuilder().Fstype("ext4").Build());
        Assert.Equal("fstype() requires disk() to be called first", error.Message);
    }

    [Theory]
    [InlineData("", "fstype must not be empty")]
    [InlineData("ext4,size=100", "fstype must not contain ',', ';', ':', or '=': ext4,size=100")]
    [InlineData("a;b", "fstype must not contain ',', ';', ':', or '=': a;b")]
    [InlineData("a:b", "fstype must not contain ',', ';', ':', or '=': a:b")]
    [InlineData("key=value", "fstype must not contain ',', ';', ':', or '=': key=value")]
    public void Fstype_rules_have_upstream_text(string fstype, string expected)
    {
        var error = Assert.Throws<InvalidConfigException>(() => new ImageBuilder().Disk("./a.raw").Fstype(fstype).Build());
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Upper_size_after_disk_is_rejected()
    {
        var error = Assert.Throws<InvalidConfigException>(() => new ImageBuilder().Disk("./a.raw").UpperSize(10).Build());
        Assert.Equal("upper_size() requires oci() to be called first", error.Message);
    }

    [Fact]
    public void Vmdk_disk_resolves_its_format()
    {
        var disk = Assert.IsType<RootfsSource.DiskImage>(new ImageBuilder().Disk("/images/os.vmdk").Build());
        Assert.Equal(DiskImageFormat.Vmdk, disk.Format);
        Assert.Equal("/images/os.vmdk", disk.Path);
    }

    [Fact]
    public void Builders_are_immutable()
    {
        var baseBuilder = new ImageBuilder().Oci("alpine");
        var sized = baseBuilder.UpperSize(100);
        Assert.Null(Assert.IsType<RootfsSource.Oci>(baseBuilder.Build()).Source.UpperSizeMib);
        Assert.Equal(100u, Assert.IsType<RootfsSource.Oci>(sized.Build()).Source.UpperSizeMib);
    }
}

public class ImageSourceTests
{
    [Theory]
    [InlineData("alpine:3.20")]
    [InlineData("localhost:5000/team/app:1")]
    [InlineData("rootfs")] // no ./ prefix: a reference, as upstream decides
    [InlineData("python@sha256:0123")]
    public void Text_without_a_path_shape_is_an_oci_reference(string text)
    {
        Assert.Equal(text, Assert.IsType<RootfsSource.Oci>(ImageSource.FromText(text).ToRootfsSource()).Source.Reference);
    }

    [Theory]
    [InlineData("/srv/rootfs")]
    [InlineData("../rootfs")]
    [InlineData("./rootfs.d/")]
    [InlineData("/srv/.qcow2")] // a dot-file has no extension
    public void Local_paths_without_a_disk_extension_bind(string text)
    {
        Assert.Equal(text, Assert.IsType<RootfsSource.Bind>(ImageSource.FromText(text).ToRootfsSource()).Path);
    }

    [Fact]
    public void Explicit_path_is_local_even_without_a_path_shape()
    {
        Assert.Equal("rootfs", Assert.IsType<RootfsSource.Bind>(ImageSource.FromPath("rootfs").ToRootfsSource()).Path);
        var disk = Assert.IsType<RootfsSource.DiskImage>(ImageSource.FromPath("os.vmdk").ToRootfsSource());
        Assert.Equal(DiskImageFormat.Vmdk, disk.Format);
        Assert.Null(disk.Fstype);
    }

    [Fact]
    public void Directory_info_converts_to_its_full_path()
    {
        var dir = new DirectoryInfo(Path.GetTempPath());
        ImageSource source = dir;
        Assert.Equal(dir.FullName, Assert.IsType<RootfsSource.Bind>(source.ToRootfsSource()).Path);
    }

    [Fact]
    public void String_converts_implicitly()
    {
        ImageSource source = "./disk.raw";
        Assert.IsType<RootfsSource.DiskImage>(source.ToRootfsSource());
    }
}
