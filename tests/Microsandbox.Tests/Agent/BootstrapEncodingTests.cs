using System.Net;
using System.Text;
using Microsandbox.Agent;

namespace Microsandbox.Tests.Agent;

public sealed class BootstrapEncodingTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    private static string Text(string s) =>
        (0x60 + s.Length).ToString("x2") + Convert.ToHexString(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Default_bootstrap_writes_only_the_security_profile()
    {
        Assert.Equal(Hex("a1" + Text("security_profile") + Text("default")), AgentMessage.EncodePayload(new GuestBootstrap()));
    }

    [Fact]
    public void Bootstrap_omits_empty_fields_and_keeps_declaration_order()
    {
        var bootstrap = new GuestBootstrap
        {
            Hostname = "vm",
            TmpfsMounts = [new BootstrapTmpfsMount("/tmp", 64, null, new BootstrapMountFlags())],
        };
        var expected = Hex("a3" + Text("tmpfs_mounts") + "81 a3" + Text("path") + Text("/tmp") + Text("size_mib") + "1840"
                           + Text("flags") + "a4" + Text("readonly") + "f4" + Text("noexec") + "f4" + Text("nosuid") + "f4"
                           + Text("nodev") + "f4"
                           + Text("hostname") + Text("vm")
                           + Text("security_profile") + Text("default"));
        Assert.Equal(expected, AgentMessage.EncodePayload(bootstrap));
    }

    [Fact]
    public void Block_root_is_internally_tagged_and_addresses_are_octet_arrays()
    {
        var bootstrap = new GuestBootstrap
        {
            BlockRoot = new BootstrapBlockRoot.DiskImage("/dev/vda", "ext4"),
            Network = new BootstrapNetwork("eth0", [2, 0, 0, 0, 0, 2], 1500,
                new BootstrapIp(IPAddress.Parse("172.16.0.2"), 30, IPAddress.Parse("172.16.0.1"))),
            SecurityProfile = BootstrapSecurityProfile.Restricted,
        };
        var expected = Hex("a3" + Text("block_root") + "a3" + Text("kind") + Text("disk-image") + Text("device") + Text("/dev/vda")
                           + Text("fstype") + Text("ext4")
                           + Text("network") + "a4" + Text("interface") + Text("eth0") + Text("mac") + "86 02 00 00 00 00 02"
                           + Text("mtu") + "1905dc" + Text("ipv4") + "a3" + Text("address") + "84 18ac 10 00 02"
                           + Text("prefix_len") + "181e" + Text("gateway") + "84 18ac 10 00 01"
                           + Text("security_profile") + Text("restricted"));
        Assert.Equal(expected, AgentMessage.EncodePayload(bootstrap));
    }

    [Fact]
    public void Full_bootstrap_round_trips_through_a_frame()
    {
        var bootstrap = new GuestBootstrap
        {
            BlockRoot = new BootstrapBlockRoot.OciErofs("/dev/vda", new BootstrapBlockRootUpper.Tmpfs(512)),
            DirMounts = [new BootstrapDirMount("workspace", "/workspace:with separators", new BootstrapMountFlags(Noexec: true))],
            FileMounts = [new BootstrapFileMount("config", "app.json", "/etc/app.json", new BootstrapMountFlags(Readonly: true))],
            DiskMounts = [new BootstrapDiskMount("data", "/data", "ext4", new BootstrapMountFlags())],
            TmpfsMounts = [new BootstrapTmpfsMount("/tmp", 64, Convert.ToUInt32("1777", 8), new BootstrapMountFlags())],
            Hostname = "quoted-env-test",
            HostAlias = "host.microsandbox.internal",
            Network = new BootstrapNetwork("eth0", [2, 0, 0, 0, 0, 2], 1500,
                new BootstrapIp(IPAddress.Parse("172.16.0.2"), 30, IPAddress.Parse("172.16.0.1"), IPAddress.Parse("172.16.0.1")),
                new BootstrapIp(IPAddress.Parse("fd42:6d73:62::2"), 64, IPAddress.Parse("fd42:6d73:62::1"), IPAddress.Parse("fd42:6d73:62::1"))),
            Rlimits = [new ExecRlimit("nofile", 1024, 4096)],
            User = "1000:1000",
            DefaultCwd = "/workspace with spaces",
            DefaultEnv = [new BootstrapEnvVar("UNICODE", "snowman: \u2603\nnext\tcolumn"), new BootstrapEnvVar("EMPTY", "")],
            SecurityProfile = BootstrapSecurityProfile.Restricted,
            HandoffInit = new BootstrapHandoffInit("/sbin/init") { Args = ["--unit=multi user.target"], Cwd = "/" },
        };

        var wire = AgentMessage.Create(0, bootstrap).ToWireBytes();
        Assert.True(FrameCodec.TryDecode(wire, out var frame, out _));
        Assert.Equal((0u, (byte)0), (frame.Id, frame.Flags));
        var decoded = AgentMessage.FromRawFrame(frame);
        Assert.Equal(MessageType.Bootstrap, decoded.Type);
        Assert.Equal(bootstrap, decoded.ReadPayload<GuestBootstrap>());
    }

    [Fact]
    public void Restore_fields_are_absent_from_an_ordinary_bootstrap_and_round_trip_when_set()
    {
        var plain = new GuestBootstrap { Hostname = "h" };
        var plainPayload = AgentMessage.Create(0, plain).Payload.ToArray();
        Assert.DoesNotContain("unix_time_nanos", System.Text.Encoding.ASCII.GetString(plainPayload));

        var resumed = plain with { UnixTimeNanos = 1_795_437_088_123_456_789, Entropy = [1, 2, 3, 255] };
        var decoded = AgentMessage.FromRawFrame(FrameCodec.TryDecode(AgentMessage.Create(0, resumed).ToWireBytes(), out var frame, out _) ? frame : default)
            .ReadPayload<GuestBootstrap>();
        Assert.Equal(resumed, decoded);
        Assert.Equal(1_795_437_088_123_456_789ul, decoded.UnixTimeNanos);
        Assert.Equal(new byte[] { 1, 2, 3, 255 }, decoded.Entropy);
        Assert.NotEqual(plain, decoded);
    }
}
