using Microsandbox.Spec;

namespace Microsandbox.Tests.Builders;

public class MountBuilderTests
{
    [Fact]
    public void Bind_defaults_to_strict_private_without_quota()
    {
        var bind = Assert.IsType<VolumeMount.Bind>(new MountBuilder("/data").Bind("/host/data").Build());
        Assert.Equal("/host/data", bind.Host);
        Assert.Equal("/data", bind.Guest);
        Assert.Equal(StatVirtualization.Strict, bind.StatVirtualization);
        Assert.Equal(HostPermissions.Private, bind.HostPermissions);
        Assert.Null(bind.QuotaMib);
        Assert.Equal(new MountOptions(), bind.Options);
    }

    [Fact]
    public void Every_option_flag_lands_in_options()
    {
        var mount = new MountBuilder("/data").Bind("/host").Readonly().Noexec().Nosuid().Nodev().Build();
        Assert.Equal(new MountOptions { Readonly = true, Noexec = true, Nosuid = true, Nodev = true }, mount.Options);
    }

    [Fact]
    public void Policies_and_quota_apply_to_bind()
    {
        var bind = Assert.IsType<VolumeMount.Bind>(new MountBuilder("/data").Bind("/host")
            .StatVirtualization(StatVirtualization.Relaxed).HostPermissions(HostPermissions.Mirror).Quota(2048).Build());
        Assert.Equal(StatVirtualization.Relaxed, bind.StatVirtualization);
        Assert.Equal(HostPermissions.Mirror, bind.HostPermissions);
        Assert.Equal(2048u, bind.QuotaMib);
    }

    [Fact]
    public void Tmpfs_takes_a_size()
    {
        var tmpfs = Assert.IsType<VolumeMount.Tmpfs>(new MountBuilder("/scratch").Tmpfs().Size(100).Readonly().Build());
        Assert.Equal(100u, tmpfs.SizeMib);
        Assert.True(tmpfs.Options.Readonly);
    }

    [Fact]
    public void Disk_takes_an_fstype()
    {
        var disk = Assert.IsType<VolumeMount.DiskImage>(new MountBuilder("/data").Disk("/images/d.qcow2").Fstype("ext4").Build());
        Assert.Equal("ext4", disk.Fstype);
        Assert.Equal("/images/d.qcow2", disk.Host);
    }

    [Fact]
    public void Named_with_create_records_creation_intent()
    {
        var named = Assert.IsType<VolumeMount.Named>(new MountBuilder("/cache")
            .NamedWith("cache", v => v.Create().Quota(512).Label("team", "infra")).Build());
        Assert.Equal("cache", named.Name);
        var create = Assert.IsType<NamedVolumeCreate>(named.Create);
        Assert.Equal(NamedVolumeMode.Create, create.Mode);
        Assert.Equal(VolumeKind.Directory, create.Kind);
        Assert.Equal(512u, create.QuotaMib);
        Assert.Equal([("team", "infra")], create.Labels);
    }

    [Fact]
    public void Named_with_existing_records_no_creation_intent()
    {
        var named = Assert.IsType<VolumeMount.Named>(new MountBuilder("/cache").NamedWith("cache", v => v.Existing()).Build());
        Assert.Null(named.Create);
    }

    [Fact]
    public void Named_with_can_rename_and_pick_disk_storage()
    {
        var named = Assert.IsType<VolumeMount.Named>(new MountBuilder("/cache")
            .NamedWith("cache", v => v.EnsureExists().Quota(5).Disk().Size(1024).Name("cache2")).Build());
        Assert.Equal("cache2", named.Name);
        var create = named.Create!;
        Assert.Equal(NamedVolumeMode.EnsureExists, create.Mode);
        Assert.Equal(VolumeKind.Disk, create.Kind);
        Assert.Null(create.QuotaMib); // Disk() clears the directory quota
        Assert.Equal(1024u, create.CapacityMib);
    }

    [Fact]
    public void Directory_clears_disk_capacity()
    {
        var create = Assert.IsType<VolumeMount.Named>(new MountBuilder("/c")
            .NamedWith("c", v => v.Create().Disk().Size(64).Directory()).Build()).Create!;
        Assert.Equal(VolumeKind.Directory, create.Kind);
        Assert.Null(create.CapacityMib);
    }

    [Theory]
    [InlineData("data", "guest mount path must be absolute: data")]
    [InlineData("/", "cannot mount a volume at guest root /")]
    [InlineData("/data:ro", "guest mount path must not contain ':', ';', or ',': /data:ro")]
    [InlineData("/a;b", "guest mount path must not contain ':', ';', or ',': /a;b")]
    [InlineData("/a,b", "guest mount path must not contain ':', ';', or ',': /a,b")]
    public void Guest_path_rules(string guest, string expected)
    {
        var error = Assert.Throws<InvalidConfigException>(() => new MountBuilder(guest).Tmpfs().Build());
        Assert.Equal(expected, error.Message);
    }

    [Theory]
    [InlineData("/host/a,b", "bind host path must not contain ',': /host/a,b")]
    [InlineData("/host/a:b", "bind host path must not contain ':': /host/a:b")]
    [InlineData("/host/a;b", "bind host path must not contain ';': /host/a;b")]
    public void Bind_host_separator_rules(string host, string expected)
    {
        var error = Assert.Throws<InvalidConfigException>(() => new MountBuilder("/data").Bind(host).Build());
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Disk_host_separator_rule()
    {
        var error = Assert.Throws<InvalidConfigException>(() => new MountBuilder("/data").Disk("/h/a;b.raw").Build());
        Assert.Equal("disk image host path must not contain ',', ':', or ';': /h/a;b.raw", error.Message);
    }

    [Fact]
    public void Missing_kind_is_reported()
    {
        var error = Assert.Throws<InvalidConfigException>(() => new MountBuilder("/data").Readonly().Build());
        Assert.Equal("MountBuilder: no mount type set (call .bind(), .named(), .tmpfs(), or .disk())", error.Message);
    }

    [Fact]
    public void Quota_is_bind_only()
    {
        var error = Assert.Throws<InvalidConfigException>(() => new MountBuilder("/t").Tmpfs().Quota(64).Build());
        Assert.Equal(".quota() is only valid for bind mounts; for named volumes use .named_with(|v| v.quota(..))", error.Message);
    }

    [Fact]
    public void Stat_virtualization_is_virtiofs_only()
    {
        var error = Assert.Throws<InvalidConfigException>(() =>
            new MountBuilder("/t").Tmpfs().StatVirtualization(StatVirtualization.Off).Build());
        Assert.Equal(".stat_virtualization() is only valid for bind and named volume mounts", error.Message);
    }

    [Fact]
    public void Host_permissions_is_virtiofs_only()
    {
        var error = Assert.Throws<InvalidConfigException>(() =>
            new MountBuilder("/t").Disk("/a.raw").HostPermissions(HostPermissions.Mirror).Build());
        Assert.Equal(".host_permissions() is only valid for bind and named volume mounts", error.Message);
    }

    [Fact]
    public void Explicit_off_with_mirror_is_contradictory()
    {
        var error = Assert.Throws<InvalidConfigException>(() => new MountBuilder("/d").Named("v")
            .StatVirtualization(StatVirtualization.Off).HostPermissions(HostPermissions.Mirror).Build());
        Assert.Equal(
            "stat_virtualization=Off cannot be combined with host_permissions=Mirror: Off has no overlay, so chmod " +
            "already operates on the host inode and Mirror would be a no-op. Drop one or the other.",
            error.Message);
    }

    [Fact]
    public void Off_alone_is_accepted()
    {
        var bind = Assert.IsType<VolumeMount.Bind>(new MountBuilder("/d").Bind("/h").StatVirtualization(StatVirtualization.Off).Build());
        Assert.Equal(StatVirtualization.Off, bind.StatVirtualization);
    }

    [Fact]
    public void Disk_named_volume_rejects_virtiofs_policies()
    {
        var error = Assert.Throws<InvalidConfigException>(() => new MountBuilder("/d")
            .NamedWith("vol", v => v.Create().Disk()).StatVirtualization(StatVirtualization.Strict).Build());
        Assert.Equal("stat_virtualization is only valid for directory named volumes: vol", error.Message);
        error = Assert.Throws<InvalidConfigException>(() => new MountBuilder("/d")
            .NamedWith("vol", v => v.Create().Disk()).HostPermissions(HostPermissions.Private).Build());
        Assert.Equal("host_permissions is only valid for directory named volumes: vol", error.Message);
    }

    [Fact]
    public void Invalid_fstype_is_reported_even_on_disk()
    {
        var error = Assert.Throws<InvalidConfigException>(() => new MountBuilder("/d").Disk("/a.raw").Fstype("").Build());
        Assert.Equal("fstype must not be empty", error.Message);
    }

    [Theory]
    [InlineData("", "volume name must not be empty")]
    [InlineData("-cache", "volume name must start with an alphanumeric character and contain only alphanumeric characters, dots, hyphens, and underscores: -cache")]
    public void Volume_name_rules(string name, string expected)
    {
        var error = Assert.Throws<InvalidConfigException>(() => new MountBuilder("/d").Named(name).Build());
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Last_kind_wins()
    {
        Assert.IsType<VolumeMount.Tmpfs>(new MountBuilder("/d").Bind("/h").Tmpfs().Build());
    }

    [Fact]
    public void Builders_are_immutable()
    {
        var shared = new MountBuilder("/d").Bind("/h");
        var readOnly = shared.Readonly();
        Assert.False(shared.Build().Options.Readonly);
        Assert.True(readOnly.Build().Options.Readonly);
    }
}
