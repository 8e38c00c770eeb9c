using System.Net;
using System.Text.Json;
using Microsandbox.Engines.Qemu;

namespace Microsandbox.Tests.Qemu;

/// <summary>Upstream's NetworkPolicy JSON → the directives of QEMU's preloaded network filter, and what is refused.</summary>
public sealed class NetworkPolicyCompileTests
{
    private static readonly IPAddress[] Resolvers = [IPAddress.Parse("127.0.0.53")];
    private static readonly ushort[] PublishedUdp = [5353];

    private static string? Compile(string? json) =>
        QemuNetworkPolicy.Compile(json is null ? null : JsonDocument.Parse(json).RootElement.Clone(), Resolvers, PublishedUdp);

    [Fact]
    public void No_policy_is_upstreams_default_public_only_with_gateway_dns()
    {
        Assert.Equal("""
            default deny
            resolver 127.0.0.53
            published udp 5353
            rule allow tcp,udp 53 group:host
            rule allow any any group:public

            """.ReplaceLineEndings("\n"), Compile(null));
    }

    [Fact]
    public void Profiles_compose_in_upstreams_order()
    {
        var policy = NetworkPolicySpec(n => n.Profiles(NetworkProfile.Host, NetworkProfile.Public));
        var text = QemuNetworkPolicy.Compile(policy, [])!;
        Assert.Equal(["default deny", "rule allow tcp,udp 53 group:host", "rule allow any any group:public", "rule allow any any group:host"], text.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Allow_all_needs_no_filter_and_deny_all_denies_everything()
    {
        Assert.Null(QemuNetworkPolicy.Compile(NetworkPolicySpec(n => n.AllowAll()), Resolvers, PublishedUdp));
        Assert.Equal("default deny\n", QemuNetworkPolicy.Compile(NetworkPolicySpec(n => n.DenyAll()), []));
        Assert.Equal("default deny\n", QemuNetworkPolicy.Compile(NetworkPolicySpec(n => n.Profiles()), []));
    }

    [Fact]
    public void Rules_keep_their_order_ports_protocols_and_cidrs()
    {
        var text = Compile("""
            {"default_egress":"allow","default_ingress":"allow","rules":[
              {"direction":"egress","destination":{"cidr":"198.51.100.0/24"},"protocols":["tcp","icmpv4"],"ports":[{"start":80,"end":80},{"start":8000,"end":8100}],"action":"deny"},
              {"direction":"any","destination":{"cidr":"2001:db8::1"},"action":"deny"},
              {"direction":"egress","destination":{"group":"loopback"},"action":"deny"},
              {"direction":"egress","destination":"any","protocols":[],"ports":[],"action":"allow"}]}
            """)!;
        Assert.Equal(
            ["default allow", "resolver 127.0.0.53", "published udp 5353", "rule deny icmp,tcp 80,8000-8100 cidr:198.51.100.0/24", "rule deny any any cidr:2001:db8::1/128", "rule allow any any any"],
            text.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("""{"default_egress":"deny","rules":[{"direction":"egress","destination":{"domain":"example.com"},"action":"allow"}]}""", "network.policy.rules[0].destination.domain: domain rules are not enforced by the QEMU engine")]
    [InlineData("""{"default_egress":"deny","rules":[{"direction":"egress","destination":{"domain_suffix":"example.com"},"action":"allow"}]}""", "network.policy.rules[0].destination.domain_suffix: domain rules")]
    [InlineData("""{"default_egress":"deny","rules":[{"direction":"ingress","destination":{"group":"private"},"action":"allow"}]}""", "network.policy.rules[0]: ingress rules are not enforced by the QEMU engine")]
    [InlineData("""{"default_egress":"maybe"}""", "network.policy.default_egress: must be \"allow\" or \"deny\"")]
    [InlineData("""{"rules":[{"direction":"egress","destination":{"group":"internet"},"action":"allow"}]}""", "network.policy.rules[0].destination.group: 'internet' is not a destination group")]
    [InlineData("""{"rules":[{"direction":"egress","destination":{"cidr":"10.0.0.0/33"},"action":"allow"}]}""", "network.policy.rules[0].destination.cidr: '10.0.0.0/33' has a prefix length outside 0..32")]
    [InlineData("""{"rules":[{"direction":"egress","destination":"any","ports":[{"start":90,"end":80}],"action":"allow"}]}""", "network.policy.rules[0].ports[0]: start 90 is above end 80")]
    [InlineData("""{"rules":[{"direction":"egress","destination":"any","protocols":["sctp"],"action":"allow"}]}""", "network.policy.rules[0].protocols[0]: 'sctp' is not one of tcp, udp, icmpv4, icmpv6")]
    [InlineData("""{"rules":[{"direction":"egress","destination":"any"}]}""", "network.policy.rules[0].action: is required")]
    [InlineData("""{"rules":[{"direction":"egress","destination":{"cidr":"10.1/8"},"action":"deny"}]}""", "network.policy.rules[0].destination.cidr: '10.1/8' is not an IP address or CIDR block")]
    [InlineData("""{"rules":[{"direction":"egress","destination":"any","ports":"80","action":"deny"}]}""", "network.policy.rules[0].ports: must be an array")]
    [InlineData("""{"rules":[{"direction":"sideways","destination":"any","action":"allow"}]}""", "network.policy.rules[0].direction: 'sideways' is not one of egress, ingress, any")]
    public void What_the_filter_cannot_decide_is_refused_naming_the_field(string json, string message)
    {
        var e = Assert.Throws<InvalidConfigException>(() => Compile(json));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolvers_come_from_resolv_conf_nameserver_lines()
    {
        var resolvers = QemuNetworkPolicy.Resolvers("# comment\nsearch example\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:1\n");
        Assert.Equal([IPAddress.Parse("10.0.0.2"), IPAddress.Parse("fe80::1")], resolvers);
    }

    private static JsonElement NetworkPolicySpec(Func<NetworkBuilder, NetworkBuilder> configure) =>
        new SandboxBuilder("policy").Image(Path.GetTempPath()).Network(configure).Build().Spec.Network.Policy!.Value;

    [Fact]
    public void More_rules_than_the_filter_keeps_are_refused()
    {
        var rules = string.Join(",", Enumerable.Repeat("""{"direction":"egress","destination":"any","action":"deny"}""", QemuNetworkPolicy.MaxRules + 1));
        Assert.StartsWith("network.policy.rules: at most 256 rules", Assert.Throws<InvalidConfigException>(() => Compile($$"""{"rules":[{{rules}}]}""")).Message, StringComparison.Ordinal);
    }
}
