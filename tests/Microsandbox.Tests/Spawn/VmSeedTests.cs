using Microsandbox.Runtime;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Spawn;

/// <summary>
/// Ports of the <c>#[test]</c>s of microsandbox-runtime 0.5.1 <c>vm.rs</c> (the mount-argument grammar and disk
/// format check), named after them. The 0.6.18 runtime we launch takes options after a colon
/// (<c>tag:/host:ro,stat-virt=relaxed</c>) where 0.5.1 also took them after a comma (<c>tag:/host,stat-virt=off</c>),
/// so inputs of the second form are written in the first; expectations and error texts are the Rust ones.
/// <c>prepend_scripts_path</c>'s tests run against the guest agent (<c>Vm/ScriptsPathSeedTests</c>);
/// <c>append_block_root_env</c> belongs to libkrun's init and is not ported (docs/compat.md).
/// </summary>
public sealed class VmSeedTests
{
    private static string Error(string spec) => Assert.Throws<MicrosandboxException>(() => LaunchMountArgument.ParseDirectory(spec)).Message;

    [Fact]
    public void test_parse_mount_spec_minimal()
    {
        var p = LaunchMountArgument.ParseDirectory("foo:/host/data");
        Assert.Equal("foo", p.Tag);
        Assert.Equal("/host/data", p.HostPath);
        Assert.Equal(StatVirtualization.Strict, p.StatVirtualization);
        Assert.Equal(HostPermissions.Private, p.HostPermissions);
        Assert.False(p.Readonly);
    }

    [Fact]
    public void test_parse_mount_spec_with_ro_and_policies()
    {
        var p = LaunchMountArgument.ParseDirectory("foo:/host/data:ro,stat-virt=relaxed,host-perms=mirror");
        Assert.Equal("/host/data", p.HostPath);
        Assert.True(p.Readonly);
        Assert.Equal(StatVirtualization.Relaxed, p.StatVirtualization);
        Assert.Equal(HostPermissions.Mirror, p.HostPermissions);
    }

    [Fact]
    public void test_parse_mount_spec_stat_virt_off() =>
        Assert.Equal(StatVirtualization.Off, LaunchMountArgument.ParseDirectory("foo:/host/data:stat-virt=off").StatVirtualization);

    [Fact]
    public void test_parse_mount_spec_rejects_unknown_key() =>
        Assert.Contains("unknown mount option \"bogus\"", Error("foo:/host/data:bogus=1"), StringComparison.Ordinal);

    [Fact]
    public void test_parse_mount_spec_rejects_invalid_stat_virt() =>
        Assert.Contains("invalid stat-virt \"nope\" (expected strict|relaxed|off)", Error("foo:/host/data:stat-virt=nope"), StringComparison.Ordinal);

    [Fact]
    public void test_parse_mount_spec_rejects_invalid_host_perms() =>
        Assert.Contains("invalid host-perms \"public\" (expected private|mirror)", Error("foo:/host/data:host-perms=public"), StringComparison.Ordinal);

    [Fact]
    public void test_parse_mount_spec_missing_colon_errors() =>
        Assert.Contains("expected tag:host_path", Error("nopath"), StringComparison.Ordinal);

    [Fact]
    public void test_parse_mount_spec_empty_tag_errors() =>
        Assert.Contains("empty tag", Error(":/host"), StringComparison.Ordinal);

    [Fact]
    public void test_parse_mount_spec_with_ro_anchors_options_block()
    {
        // A host path may hold colons: only a last segment that reads as options is taken as options.
        var p = LaunchMountArgument.ParseDirectory("foo:/host/da:ta:ro,stat-virt=relaxed");
        Assert.Equal("/host/da:ta", p.HostPath);
        Assert.Equal(StatVirtualization.Relaxed, p.StatVirtualization);
        Assert.Equal("/srv/a:b", LaunchMountArgument.ParseDirectory("foo:/srv/a:b").HostPath);
    }

    [Fact]
    public void test_parse_mount_spec_rejects_duplicate_stat_virt() =>
        Assert.Contains("more than once", Error("foo:/host:stat-virt=strict,stat-virt=off"), StringComparison.Ordinal);

    [Fact]
    public void test_validate_disk_format_rejects_unknown_values()
    {
        var e = Assert.Throws<MicrosandboxException>(() => LaunchMountArgument.ParseDisk("d0:/img/disk.iso:iso"));
        Assert.Contains("unknown disk image format", e.Message, StringComparison.Ordinal);
        Assert.Equal("qcow2", LaunchMountArgument.ParseDisk("d0:/img/a.qcow2:qcow2:ro").Format);
    }

    [Fact]
    public void Empty_host_path_and_bad_quota_are_refused_too()
    {
        Assert.Contains("empty host path in mount spec \"foo:\"", Error("foo:"), StringComparison.Ordinal);
        Assert.Contains("invalid quota \"0\"", Error("foo:/data:quota=0"), StringComparison.Ordinal);
        Assert.Equal(512u, LaunchMountArgument.ParseDirectory("foo:/data:quota=512").QuotaMib);
    }

    [Fact]
    public void What_the_planner_writes_parses_back_to_the_same_share()
    {
        var text = LaunchMountArgument.FormatDirectory("vol0", "/srv/data", ["ro", "noexec", "stat-virt=relaxed", "host-perms=mirror", "quota=64"]);
        var p = LaunchMountArgument.ParseDirectory(text);
        Assert.Equal(("vol0", "/srv/data", true, StatVirtualization.Relaxed, HostPermissions.Mirror, 64u),
            (p.Tag, p.HostPath, p.Readonly, p.StatVirtualization, p.HostPermissions, p.QuotaMib!.Value));
    }
}
