using Microsandbox.Host;
using Microsandbox.Runtime;
using Microsandbox.Spawn;

namespace Microsandbox.Tests.Spawn;

public class LaunchNamingTests
{
    [Fact]
    public void Socket_and_lock_paths_follow_the_upstream_layout()
    {
        var home = new MicrosandboxHome("/h");
        // sha256("demo") = 2a97516c354b68848cdbd8f54a226a0a55b21ed138e207ad6c5cbb9c00aa5aea
        Assert.Equal("/h/run/sandboxes/2a97516c354b68848cdbd8f5/agent.sock", home.AgentSocketPath("demo"));
        Assert.Equal("/h/run/agent/2a97516c354b68848cdbd8f54a226a0a.sock", home.LegacyAgentSocketPath("demo"));
        Assert.Equal("/h/run/locks/2a97516c354b68848cdbd8f54a226a0a.lock", home.LifecycleLockPath("demo"));
        Assert.Equal("/h/db/msb.db", home.DatabasePath);
        Assert.Equal("/h/sandboxes/demo/logs", home.LogDirectory("demo"));
    }

    [Fact]
    public void Mount_tags_are_short_stable_and_collision_free()
    {
        var a = GuestNames.MountTag("/var/log");
        var b = GuestNames.MountTag("/var_log");
        Assert.StartsWith("var_log_", a);
        Assert.NotEqual(a, b);
        Assert.Equal(a, GuestNames.MountTag("/var/log"));
        Assert.True(GuestNames.MountTag("/a/very/long/guest/path/indeed").Length <= 20);
        Assert.Matches("^[0-9a-f]{8}$", GuestNames.MountTag("/"));
    }

    [Fact]
    public void Hostnames_are_the_name_or_a_hashed_prefix()
    {
        Assert.Equal("demo", GuestNames.HostnameFor("demo"));
        var longName = new string('a', 80);
        var host = GuestNames.HostnameFor(longName);
        Assert.Equal(64, host.Length);
        Assert.StartsWith(new string('a', 55) + "-", host);
    }

    [Theory]
    [InlineData("tag:/srv/data", "tag", "/srv/data", false)]
    [InlineData("tag:/srv/data:ro,noexec,quota=4096", "tag", "/srv/data", true)]
    [InlineData("tag:/srv/with:colon", "tag", "/srv/with:colon", false)]
    public void Directory_share_arguments_round_trip(string text, string tag, string host, bool ro)
    {
        var m = LaunchMountArgument.ParseDirectory(text);
        Assert.Equal(tag, m.Tag);
        Assert.Equal(host, m.HostPath);
        Assert.Equal(ro, m.Readonly);
        Assert.Equal(text, LaunchMountArgument.FormatDirectory(m.Tag, m.HostPath, m.Options));
    }

    [Theory]
    [InlineData("data_1:/img/d.qcow2:qcow2", "data_1", "/img/d.qcow2", "qcow2", false)]
    [InlineData("data_1:/img/d.raw:raw:ro", "data_1", "/img/d.raw", "raw", true)]
    public void Disk_arguments_round_trip(string text, string id, string host, string format, bool ro)
    {
        var d = LaunchMountArgument.ParseDisk(text);
        Assert.Equal((id, host, format, ro), (d.Id, d.HostPath, d.Format, d.Readonly));
        Assert.Equal(text, LaunchMountArgument.FormatDisk(d.Id, d.HostPath, d.Format, d.Readonly));
    }

    [Fact]
    public void Malformed_share_arguments_name_the_expected_form()
    {
        var e = Assert.Throws<MicrosandboxException>(() => LaunchMountArgument.ParseDirectory("nocolon"));
        Assert.Equal("--mount \"nocolon\": expected tag:host_path[:opts] shape, got \"nocolon\"", e.Message);
        Assert.Throws<MicrosandboxException>(() => LaunchMountArgument.ParseDisk("id:/path"));
    }
}
