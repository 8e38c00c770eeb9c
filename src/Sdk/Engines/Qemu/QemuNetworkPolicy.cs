using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsandbox.Spec;

namespace Microsandbox.Engines.Qemu;

/// <summary>
/// Turns a sandbox's network policy (upstream's <c>NetworkPolicy</c> JSON; none means upstream's default, public
/// internet only) into the directives of <c>libmsb-netfilter.so</c>, the filter preloaded into QEMU that checks every
/// connection and datagram QEMU's user network makes for the guest (native/netfilter/msb-netfilter.c documents the
/// format). What the filter cannot decide is refused here, naming the rule, rather than ignored:
/// domain rules (they need upstream's DNS-aware network engine) and ingress rules (the only way into a QEMU guest is a
/// published port, which stays open under every policy).
/// </summary>
internal static class QemuNetworkPolicy
{
    /// <summary>The most rules the filter keeps (MAX_RULES in msb-netfilter.c).</summary>
    public const int MaxRules = 256;

    /// <summary>
    /// The filter directives for <paramref name="policy"/> (null: upstream's default), or null when the policy allows
    /// everything and no filter is needed.
    /// </summary>
    /// <param name="policy">The spec's <c>network.policy</c>.</param>
    /// <param name="resolvers">The host's DNS servers (slirp forwards the guest's DNS to them).</param>
    /// <param name="publishedUdpPorts">Host ports published for UDP: replies sent from them are not the guest reaching out.</param>
    /// <exception cref="InvalidConfigException">A rule the QEMU engine cannot enforce, or a malformed policy.</exception>
    public static string? Compile(JsonElement? policy, IEnumerable<IPAddress> resolvers, IEnumerable<ushort>? publishedUdpPorts = null)
    {
        var root = policy ?? NetworkPolicies.Default;
        if (root.ValueKind != JsonValueKind.Object) throw Invalid("network.policy", "must be an object");
        var defaultEgress = Action(root, "default_egress", "network.policy.default_egress");
        var text = new StringBuilder();
        text.Append("default ").Append(defaultEgress).Append('\n');
        foreach (var resolver in resolvers) text.Append("resolver ").Append(resolver).Append('\n');
        foreach (var port in (publishedUdpPorts ?? []).Distinct().Take(64)) text.Append("published udp ").Append(port).Append('\n');
        int enforced = 0;
        if (root.TryGetProperty("rules", out var rules))
        {
            if (rules.ValueKind != JsonValueKind.Array) throw Invalid("network.policy.rules", "must be an array");
            if (rules.GetArrayLength() > MaxRules) throw Invalid("network.policy.rules", $"at most {MaxRules} rules (the QEMU engine's filter keeps that many)");
            int index = 0;
            foreach (var rule in rules.EnumerateArray())
            {
                var line = CompileRule(rule, $"network.policy.rules[{index++}]");
                if (line is null) continue;
                text.Append(line).Append('\n');
                enforced++;
            }
        }
        return defaultEgress == "allow" && enforced == 0 ? null : text.ToString();
    }

    /// <summary>The <c>nameserver</c> addresses of a resolv.conf text (at most 8, as the filter keeps).</summary>
    public static IReadOnlyList<IPAddress> Resolvers(string resolvConf) =>
        resolvConf.Split('\n')
            .Select(line => line.Trim().Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(words => words.Length >= 2 && words[0] == "nameserver")
            .Select(words => IPAddress.TryParse(words[1].Split('%')[0], out var address) ? address : null)
            .OfType<IPAddress>()
            .Take(8)
            .ToList();

    /// <summary>The host's resolvers, from /etc/resolv.conf (none when it cannot be read).</summary>
    public static IReadOnlyList<IPAddress> HostResolvers()
    {
        try
        {
            return Resolvers(File.ReadAllText("/etc/resolv.conf"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static string? CompileRule(JsonElement rule, string path)
    {
        if (rule.ValueKind != JsonValueKind.Object) throw Invalid(path, "must be an object");
        var direction = Text(rule, "direction", path + ".direction");
        var action = Text(rule, "action", path + ".action");
        if (action is not ("allow" or "deny")) throw Invalid(path + ".action", "must be \"allow\" or \"deny\"");
        if (direction is not ("egress" or "ingress" or "any"))
            throw Invalid(path + ".direction", $"'{direction}' is not one of egress, ingress, any");
        if (direction == "ingress")
            throw Invalid(path, "ingress rules are not enforced by the QEMU engine: the only way into its guests is a published port, which every policy keeps open (use the libkrun engine for ingress rules)");

        string destination;
        if (!rule.TryGetProperty("destination", out var target)) throw Invalid(path + ".destination", "is required");
        if (target.ValueKind == JsonValueKind.String && target.GetString() == "any")
        {
            destination = "any";
        }
        else if (target.ValueKind == JsonValueKind.Object && target.EnumerateObject().ToList() is [var only])
        {
            var value = only.Value.ValueKind == JsonValueKind.String ? only.Value.GetString()! : throw Invalid($"{path}.destination.{only.Name}", "must be a string");
            switch (only.Name)
            {
                case "group":
                    if (value == "loopback") return null; // the guest's own loopback never leaves the guest
                    if (value is not ("public" or "private" or "host" or "link_local" or "metadata" or "multicast"))
                        throw Invalid(path + ".destination.group", $"'{value}' is not a destination group (public, private, loopback, link_local, metadata, multicast, host)");
                    destination = "group:" + value;
                    break;
                case "cidr":
                    destination = "cidr:" + Cidr(value, path + ".destination.cidr");
                    break;
                case "domain" or "domain_suffix":
                    throw Invalid($"{path}.destination.{only.Name}", "domain rules are not enforced by the QEMU engine, which filters by address (use a cidr or group rule, or the libkrun engine)");
                default:
                    throw Invalid(path + ".destination", $"'{only.Name}' is not a destination kind (any, cidr, domain, domain_suffix, group)");
            }
        }
        else
        {
            throw Invalid(path + ".destination", "must be \"any\" or an object with one of cidr, domain, domain_suffix, group");
        }

        return $"rule {action} {Protocols(rule, path)} {Ports(rule, path)} {destination}";
    }

    private static string Protocols(JsonElement rule, string path)
    {
        if (!rule.TryGetProperty("protocols", out var protocols) || protocols.ValueKind == JsonValueKind.Null) return "any";
        if (protocols.ValueKind != JsonValueKind.Array) throw Invalid(path + ".protocols", "must be an array");
        if (protocols.GetArrayLength() == 0) return "any";
        var names = new SortedSet<string>(StringComparer.Ordinal);
        int index = 0;
        foreach (var protocol in protocols.EnumerateArray())
        {
            names.Add((protocol.ValueKind == JsonValueKind.String ? protocol.GetString() : null) switch
            {
                "tcp" => "tcp",
                "udp" => "udp",
                "icmpv4" or "icmpv6" => "icmp",
                var other => throw Invalid($"{path}.protocols[{index}]", $"'{other}' is not one of tcp, udp, icmpv4, icmpv6"),
            });
            index++;
        }
        return string.Join(',', names);
    }

    private static string Ports(JsonElement rule, string path)
    {
        if (!rule.TryGetProperty("ports", out var ports) || ports.ValueKind == JsonValueKind.Null) return "any";
        if (ports.ValueKind != JsonValueKind.Array) throw Invalid(path + ".ports", "must be an array");
        if (ports.GetArrayLength() == 0) return "any";
        if (ports.GetArrayLength() > 16) throw Invalid(path + ".ports", "at most 16 port ranges per rule");
        var ranges = new List<string>();
        int index = 0;
        foreach (var range in ports.EnumerateArray())
        {
            var at = $"{path}.ports[{index++}]";
            if (range.ValueKind != JsonValueKind.Object
                || !range.TryGetProperty("start", out var start) || !start.TryGetUInt16(out var lo)
                || !range.TryGetProperty("end", out var end) || !end.TryGetUInt16(out var hi))
                throw Invalid(at, "must be {\"start\": PORT, \"end\": PORT} with ports from 0 to 65535");
            if (lo > hi) throw Invalid(at, $"start {lo} is above end {hi}");
            ranges.Add(lo == hi ? lo.ToString(CultureInfo.InvariantCulture) : $"{lo}-{hi}");
        }
        return string.Join(',', ranges);
    }

    private static string Cidr(string value, string path)
    {
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var address = slash < 0 ? value : value[..slash];
        if (!Host.IpText.TryParse(address, out var ip)) throw Invalid(path, $"'{value}' is not an IP address or CIDR block");
        var prefix = Host.IpText.MaxPrefix(ip);
        if (slash >= 0 && !Host.IpText.TryParsePrefix(value[(slash + 1)..], ip, out prefix))
            throw Invalid(path, $"'{value}' has a prefix length outside 0..{Host.IpText.MaxPrefix(ip)}");
        return $"{ip}/{prefix}";
    }

    private static string Action(JsonElement element, string name, string path)
    {
        // Upstream's serde default for a missing action is deny (fail closed).
        if (!element.TryGetProperty(name, out var value)) return "deny";
        var text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        return text is "allow" or "deny" ? text : throw Invalid(path, $"must be \"allow\" or \"deny\"");
    }

    private static string Text(JsonElement element, string name, string path) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw Invalid(path, "is required and must be a string");

    private static InvalidConfigException Invalid(string field, string rule) => new($"{field}: {rule}");
}
