using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsandbox;

/// <summary>Upstream's ready-made policies (<c>NetworkPolicy::from_profiles</c>, <c>none</c>, <c>allow_all</c>) as the JSON the spec carries.</summary>
internal static class NetworkPolicies
{
    /// <summary>Deny everything, both directions (upstream <c>NetworkPolicy::none()</c>).</summary>
    public static JsonElement None { get; } = Parse("""{"default_egress":"deny","default_ingress":"deny","rules":[]}""");

    /// <summary>Upstream's default when a spec names no policy: gateway DNS, then the public internet; nothing else.</summary>
    public static JsonElement Default { get; } = FromProfiles([NetworkProfile.Public]);

    /// <summary>Allow everything, both directions (upstream <c>NetworkPolicy::allow_all()</c>).</summary>
    public static JsonElement AllowAll { get; } = Parse("""{"default_egress":"allow","default_ingress":"allow","rules":[]}""");

    /// <summary>
    /// Upstream's <c>from_profiles</c>: egress denied by default, ingress allowed; for a non-empty set, first TCP/UDP
    /// port 53 to the host group (the gateway's DNS), then one allow rule per profile in the order public, private, host.
    /// </summary>
    public static JsonElement FromProfiles(IEnumerable<NetworkProfile> profiles)
    {
        var set = profiles.ToHashSet();
        var rules = new JsonArray();
        if (set.Count > 0)
        {
            rules.Add(new JsonObject
            {
                ["direction"] = "egress",
                ["destination"] = new JsonObject { ["group"] = "host" },
                ["protocols"] = new JsonArray("udp", "tcp"),
                ["ports"] = new JsonArray(new JsonObject { ["start"] = 53, ["end"] = 53 }),
                ["action"] = "allow",
            });
        }
        foreach (var (profile, group) in new[] { (NetworkProfile.Public, "public"), (NetworkProfile.Private, "private"), (NetworkProfile.Host, "host") })
        {
            if (!set.Contains(profile)) continue;
            rules.Add(new JsonObject
            {
                ["direction"] = "egress",
                ["destination"] = new JsonObject { ["group"] = group },
                ["protocols"] = new JsonArray(),
                ["ports"] = new JsonArray(),
                ["action"] = "allow",
            });
        }
        var policy = new JsonObject { ["default_egress"] = "deny", ["default_ingress"] = "allow", ["rules"] = rules };
        return Parse(policy.ToJsonString());
    }

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
