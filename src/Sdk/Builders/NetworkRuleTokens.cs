using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace Microsandbox;

/// <summary>
/// Upstream's rule token grammar (<c>msb --net-rule</c>): comma-separated
/// <c>&lt;action&gt;[:&lt;direction&gt;]@&lt;target&gt;[:&lt;proto&gt;[:&lt;ports&gt;]]</c>, parsed into the policy's rule JSON with
/// upstream's error texts. Targets: <c>any</c>, <c>dns</c>, a group (<c>public</c>, <c>private</c>, <c>loopback</c>,
/// <c>link-local</c>, <c>meta</c>, <c>multicast</c>, <c>host</c>), an IP or CIDR (IPv6 in brackets when a protocol
/// follows), a domain, <c>domain=NAME</c>, <c>*.SUFFIX</c> or <c>suffix=SUFFIX</c>.
/// </summary>
internal static class NetworkRuleTokens
{
    private const string Grammar = "<action>[:<direction>]@<target>[:<proto>[:<ports>]]";

    /// <summary>The rules of a comma-separated token list, in order.</summary>
    /// <exception cref="FormatException">A token does not parse; the message is upstream's.</exception>
    public static IReadOnlyList<JsonObject> Parse(string tokens) =>
        tokens.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(ParseToken).ToList();

    private static JsonObject ParseToken(string token)
    {
        var at = token.IndexOf('@', StringComparison.Ordinal);
        if (at < 0) throw new FormatException($"rule token `{token}` is missing `@`; expected `{Grammar}`");
        var (action, direction) = ActionAndDirection(token[..at]);
        var right = token[(at + 1)..];
        if (right == "dns" || right.StartsWith("dns:", StringComparison.Ordinal)) return Dns(right, action, direction, token);

        JsonNode destination;
        string? proto, ports;
        if (right.StartsWith('['))
        {
            var close = right.IndexOf(']', StringComparison.Ordinal);
            if (close < 0) throw new FormatException($"unclosed `[` in rule token `{token}`; IPv6 addresses must be wrapped as `[<addr>]`");
            destination = Bracketed(right[1..close]);
            var after = right[(close + 1)..];
            (proto, ports) = (null, null);
            if (after.Length > 0)
            {
                if (!after.StartsWith(':')) throw new FormatException($"rule token `{token}` has unexpected content after `]`; expected `:<proto>` or end of token");
                var parts = after[1..].Split(':');
                if (parts.Length > 2) throw TrailingJunk(token);
                (proto, ports) = (parts[0], parts.Length > 1 ? parts[1] : null);
            }
        }
        else
        {
            var parts = right.Split(':', 4);
            if (parts.Length > 3) throw TrailingJunk(token);
            (proto, ports) = (parts.Length > 1 ? parts[1] : null, parts.Length > 2 ? parts[2] : null);
            if (proto is not null && LooksLikePort(proto))
                throw new FormatException($"`{proto}` is a port, not a protocol; did you mean `{parts[0]}:tcp:{proto}`? port numbers don't belong in the target");
            destination = Target(parts[0]);
        }

        var protocols = proto is null ? new JsonArray() : Protocols(proto);
        if (direction is "ingress" or "any" && protocols.Any(p => p!.GetValue<string>().StartsWith("icmp", StringComparison.Ordinal)))
            throw new FormatException("ingress and any-direction rules do not support ICMP; only TCP (and UDP when UDP publishing lands)");
        return Rule(direction, destination, protocols, ports is null ? new JsonArray() : Ports(ports), action);
    }

    private static FormatException TrailingJunk(string token) =>
        new($"rule token `{token}` has trailing fields after `<ports>`; if this is an IPv6 address, wrap it as `[<addr>]`");

    private static JsonObject Rule(string direction, JsonNode destination, JsonArray protocols, JsonArray ports, string action) => new()
    {
        ["direction"] = direction,
        ["destination"] = destination,
        ["protocols"] = protocols,
        ["ports"] = ports,
        ["action"] = action,
    };

    private static (string Action, string Direction) ActionAndDirection(string left)
    {
        var colon = left.IndexOf(':', StringComparison.Ordinal);
        var (action, direction) = colon < 0 ? (left, null) : (left[..colon], left[(colon + 1)..]);
        if (action is not ("allow" or "deny")) throw new FormatException($"`{action}` is not a recognized action. Expected `allow` or `deny`");
        if (direction is not (null or "egress" or "ingress" or "any"))
            throw new FormatException($"`{direction}` is not a recognized direction. Expected `egress`, `ingress`, or `any`");
        return (action, direction ?? "egress");
    }

    private static JsonObject Dns(string right, string action, string direction, string token)
    {
        if (direction != "egress") throw new FormatException("the `dns` target only supports egress rules; omit the direction or use `allow:egress@dns`/`deny:egress@dns`");
        var parts = right.Split(':', 4);
        if (parts.Length > 3) throw TrailingJunk(token);
        var proto = parts.Length > 1 ? parts[1] : null;
        var protocols = proto switch
        {
            null or "" or "any" => new JsonArray("udp", "tcp"),
            "udp" => new JsonArray("udp"),
            "tcp" => new JsonArray("tcp"),
            _ => throw new FormatException($"the `dns` target supports `tcp`, `udp`, or `any`, not `{proto}`"),
        };
        if (parts.Length > 2 && parts[2] is not ("" or "any" or "53")) throw new FormatException("the `dns` target is fixed to port 53; omit the port or use `53`/`any`");
        return Rule("egress", new JsonObject { ["group"] = "host" }, protocols, new JsonArray(new JsonObject { ["start"] = 53, ["end"] = 53 }), action);
    }

    private static JsonNode Target(string raw)
    {
        const string expected = "Expected: any, dns, a group name (public, private, loopback, link-local, meta, multicast, host), an IP, a CIDR, a domain (with dot), domain=<name>, or suffix=<domain>";
        if (raw.Length == 0) throw new FormatException($"`{raw}` is not a valid target. {expected}");
        if (raw == "any") return "any";
        if (Group(raw) is { } group) return new JsonObject { ["group"] = group };
        if (raw.StartsWith("*.", StringComparison.Ordinal)) return new JsonObject { ["domain_suffix"] = Suffix(raw[2..]) };
        if (raw.StartsWith("suffix=", StringComparison.Ordinal)) return new JsonObject { ["domain_suffix"] = Suffix(raw[7..]) };
        if (raw.StartsWith("domain=", StringComparison.Ordinal)) return new JsonObject { ["domain"] = Domain(raw[7..]) };
        if (raw.Contains('/', StringComparison.Ordinal)) return new JsonObject { ["cidr"] = Cidr(raw) };
        if (Host.IpText.TryParse(raw, out var ip)) return new JsonObject { ["cidr"] = $"{ip}/{Host.IpText.MaxPrefix(ip)}" };
        if (raw.Contains('.', StringComparison.Ordinal)) return new JsonObject { ["domain"] = Domain(raw) };
        throw new FormatException($"`{raw}` is ambiguous (looks like a single-label hostname or a typoed keyword). Use `domain={raw}` to target a literal hostname");
    }

    private static string? Group(string raw) => raw switch
    {
        "public" => "public",
        "private" => "private",
        "loopback" => "loopback",
        "link-local" => "link_local",
        "meta" => "metadata",
        "multicast" => "multicast",
        "host" => "host",
        _ => null,
    };

    private static JsonNode Bracketed(string inner)
    {
        if (inner.Contains('/', StringComparison.Ordinal))
        {
            var cidr = Cidr(inner);
            return IPAddress.Parse(cidr[..cidr.IndexOf('/', StringComparison.Ordinal)]).AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                ? new JsonObject { ["cidr"] = cidr }
                : throw new FormatException($"`{inner}` is not an IPv6 address or CIDR; only IPv6 forms belong inside `[...]`");
        }
        if (!Host.IpText.TryParse(inner, out var ip)) throw new FormatException($"invalid IP address `{inner}`");
        return ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? new JsonObject { ["cidr"] = $"{ip}/128" }
            : throw new FormatException($"`{inner}` is not an IPv6 address or CIDR; only IPv6 forms belong inside `[...]`");
    }

    private static string Cidr(string raw)
    {
        var slash = raw.IndexOf('/', StringComparison.Ordinal);
        if (!Host.IpText.TryParse(raw[..slash], out var ip) || !Host.IpText.TryParsePrefix(raw[(slash + 1)..], ip, out var prefix))
            throw new FormatException($"invalid CIDR `{raw}`");
        return $"{ip}/{prefix}";
    }

    // Upstream's DomainName: lowercase ASCII, leading and trailing dots dropped, labels of letters, digits and hyphens.
    private static string Domain(string raw)
    {
        var name = raw.Trim('.').ToLowerInvariant();
        if (name.Length == 0 || name.Length > 253 || name.Split('.').Any(label =>
                label.Length is 0 or > 63 || label.StartsWith('-') || label.EndsWith('-') || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
            throw new FormatException($"invalid domain `{raw}`: not a valid DNS name");
        return name;
    }

    private static string Suffix(string raw)
    {
        var name = Domain(raw);
        return name.Contains('.', StringComparison.Ordinal)
            ? name
            : throw new FormatException($"invalid domain `{raw}`: a suffix needs at least two labels (e.g. `*.example.com`, not `*.com`)");
    }

    private static JsonArray Protocols(string raw) => raw switch
    {
        "" or "any" => new JsonArray(),
        "tcp" or "udp" or "icmpv4" or "icmpv6" => new JsonArray(raw),
        _ => throw new FormatException($"`{raw}` is not a recognized protocol. Expected `any`, `tcp`, `udp`, `icmpv4`, or `icmpv6`"),
    };

    private static JsonArray Ports(string raw)
    {
        if (raw is "" or "any") return new JsonArray();
        var dash = raw.IndexOf('-', StringComparison.Ordinal);
        var (lo, hi) = dash < 0 ? (raw, raw) : (raw[..dash], raw[(dash + 1)..]);
        if (!ushort.TryParse(lo, NumberStyles.None, CultureInfo.InvariantCulture, out var start) || !ushort.TryParse(hi, NumberStyles.None, CultureInfo.InvariantCulture, out var end))
            throw new FormatException($"`{raw}` is not a valid ports value. Expected `any`, `<port>`, or `<lo>-<hi>`");
        if (start > end) throw new FormatException($"invalid port range {start}..{end}; lo must be <= hi");
        return new JsonArray(new JsonObject { ["start"] = start, ["end"] = end });
    }

    private static bool LooksLikePort(string s)
    {
        var dash = s.IndexOf('-', StringComparison.Ordinal);
        return dash < 0
            ? s.Length > 0 && s.All(char.IsAsciiDigit) && ushort.TryParse(s, CultureInfo.InvariantCulture, out _)
            : dash > 0 && dash < s.Length - 1 && s[..dash].All(char.IsAsciiDigit) && s[(dash + 1)..].All(char.IsAsciiDigit)
              && ushort.TryParse(s[..dash], CultureInfo.InvariantCulture, out _) && ushort.TryParse(s[(dash + 1)..], CultureInfo.InvariantCulture, out _);
    }
}
