using System.Text.Json.Nodes;

namespace Microsandbox.Tests.Builders;

/// <summary>Upstream's <c>--net-rule</c> token grammar (microsandbox-cli <c>net_rule.rs</c>; the ported cases keep its test names).</summary>
public sealed class NetworkRuleTokenTests
{
    private static JsonObject One(string token) => Assert.Single(NetworkRuleTokens.Parse(token));

    private static string Error(string tokens) => Assert.Throws<FormatException>(() => NetworkRuleTokens.Parse(tokens)).Message;

    [Fact] // allow_at_public_defaults_to_egress
    public void Allow_at_public_defaults_to_egress() =>
        Assert.Equal("""{"direction":"egress","destination":{"group":"public"},"protocols":[],"ports":[],"action":"allow"}""", One("allow@public").ToJsonString());

    [Fact] // deny_dns_and_protocol_qualifier_are_supported
    public void Deny_dns_and_protocol_qualifier_are_supported()
    {
        Assert.Equal("""{"direction":"egress","destination":{"group":"host"},"protocols":["udp","tcp"],"ports":[{"start":53,"end":53}],"action":"deny"}""", One("deny@dns").ToJsonString());
        Assert.Equal("""["tcp"]""", One("allow@dns:tcp")["protocols"]!.ToJsonString());
    }

    [Fact] // dns_target_rejects_ingress_icmp_and_non_dns_ports
    public void Dns_target_rejects_ingress_icmp_and_non_dns_ports()
    {
        Assert.StartsWith("the `dns` target only supports egress rules", Error("allow:ingress@dns"), StringComparison.Ordinal);
        Assert.Equal("the `dns` target supports `tcp`, `udp`, or `any`, not `icmpv4`", Error("allow@dns:icmpv4"));
        Assert.StartsWith("the `dns` target is fixed to port 53", Error("allow@dns:udp:5353"), StringComparison.Ordinal);
    }

    [Fact] // allow_with_proto_and_port, allow_with_port_range
    public void Protocol_and_ports()
    {
        Assert.Equal("""{"direction":"egress","destination":{"group":"host"},"protocols":["tcp"],"ports":[{"start":5432,"end":5432}],"action":"allow"}""", One("allow@host:tcp:5432").ToJsonString());
        Assert.Contains("\"ports\":[{\"start\":8000,\"end\":8100}]", One("allow@public:tcp:8000-8100").ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("\"direction\":\"any\"", One("deny:any@private").ToJsonString(), StringComparison.Ordinal);
    }

    [Theory] // ip_target_becomes_cidr, cidr_target_parses, domain_with_dot_auto_detects, suffix_prefix_explicit, asterisk_suffix_shorthand…, domain_prefix_escape_hatch
    [InlineData("allow@198.51.100.5", """{"cidr":"198.51.100.5/32"}""")]
    [InlineData("allow@10.0.0.0/8", """{"cidr":"10.0.0.0/8"}""")]
    [InlineData("allow@[2001:db8::1]:tcp:443", """{"cidr":"2001:db8::1/128"}""")]
    [InlineData("allow@Example.COM", """{"domain":"example.com"}""")]
    [InlineData("allow@suffix=example.com", """{"domain_suffix":"example.com"}""")]
    [InlineData("allow@*.example.com", """{"domain_suffix":"example.com"}""")]
    [InlineData("allow@domain=localhost", """{"domain":"localhost"}""")]
    [InlineData("allow@link-local", """{"group":"link_local"}""")]
    [InlineData("allow@meta", """{"group":"metadata"}""")]
    [InlineData("allow@any", "\"any\"")]
    public void Targets(string token, string destination) =>
        Assert.Equal(destination, One(token)["destination"]!.ToJsonString());

    [Theory] // missing_at_errors, invalid_action…, invalid_direction…, ambiguous_bare_token…, invalid_protocol…, icmp_in_ingress…, icmp_in_any…, invalid_port_range…, trailing_junk…, unclosed_bracket…, unexpected_after_bracket…, bracketed (IPv4) rejected, port_in_proto_slot…, asterisk_suffix_rejects_single_label_tld
    [InlineData("allow-public", "rule token `allow-public` is missing `@`; expected `<action>[:<direction>]@<target>[:<proto>[:<ports>]]`")]
    [InlineData("alow@public", "`alow` is not a recognized action. Expected `allow` or `deny`")]
    [InlineData("allow:egres@public", "`egres` is not a recognized direction. Expected `egress`, `ingress`, or `any`")]
    [InlineData("allow@publc", "`publc` is ambiguous (looks like a single-label hostname or a typoed keyword). Use `domain=publc` to target a literal hostname")]
    [InlineData("allow@public:tpc", "`tpc` is not a recognized protocol. Expected `any`, `tcp`, `udp`, `icmpv4`, or `icmpv6`")]
    [InlineData("allow:ingress@public:icmpv4", "ingress and any-direction rules do not support ICMP; only TCP (and UDP when UDP publishing lands)")]
    [InlineData("allow:any@public:icmpv6", "ingress and any-direction rules do not support ICMP; only TCP (and UDP when UDP publishing lands)")]
    [InlineData("allow@public:tcp:90-80", "invalid port range 90..80; lo must be <= hi")]
    [InlineData("allow@2001:db8::1", "rule token `allow@2001:db8::1` has trailing fields after `<ports>`; if this is an IPv6 address, wrap it as `[<addr>]`")]
    [InlineData("allow@[2001:db8::1", "unclosed `[` in rule token `allow@[2001:db8::1`; IPv6 addresses must be wrapped as `[<addr>]`")]
    [InlineData("allow@[2001:db8::1]tcp", "rule token `allow@[2001:db8::1]tcp` has unexpected content after `]`; expected `:<proto>` or end of token")]
    [InlineData("allow@[10.0.0.1]", "`10.0.0.1` is not an IPv6 address or CIDR; only IPv6 forms belong inside `[...]`")]
    [InlineData("allow@public:443", "`443` is a port, not a protocol; did you mean `public:tcp:443`? port numbers don't belong in the target")]
    [InlineData("allow@*.com", "invalid domain `com`: a suffix needs at least two labels (e.g. `*.example.com`, not `*.com`)")]
    [InlineData("allow@10.1/8", "invalid CIDR `10.1/8`")]
    public void Bad_tokens_fail_with_upstreams_text(string token, string message) => Assert.Equal(message, Error(token));

    [Fact] // parse_rule_list_preserves_order, parse_rule_list_skips_empty_segments
    public void Lists_keep_their_order_and_skip_empty_segments()
    {
        var rules = NetworkRuleTokens.Parse("deny@198.51.100.5, ,allow@public,");
        Assert.Equal(["deny", "allow"], rules.Select(r => r["action"]!.GetValue<string>()));
    }

    [Fact]
    public void Builder_rules_go_ahead_of_the_default_profile_and_bad_ones_fail_the_build()
    {
        var spec = new SandboxBuilder("rules").Image(Path.GetTempPath()).Network(n => n.Rules("allow@host:tcp:5432")).Build().Spec;
        var rules = JsonNode.Parse(spec.Network.Policy!.Value.GetRawText())!["rules"]!.AsArray();
        Assert.Equal(["host", "host", "public"], rules.Select(r => r!["destination"]!["group"]!.GetValue<string>()));
        Assert.Equal(5432, rules[0]!["ports"]![0]!["start"]!.GetValue<int>());

        var e = Assert.Throws<InvalidConfigException>(() => new SandboxBuilder("bad").Image(Path.GetTempPath()).Network(n => n.Rules("allow@nowhere")).Build());
        Assert.Contains("network.policy.rules: `nowhere` is ambiguous", e.Message, StringComparison.Ordinal);
    }
}
