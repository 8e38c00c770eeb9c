using System.Net;
using System.Text.Json;
using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>
/// Configures a sandbox's network (<see cref="SandboxBuilder.Network"/>): on/off, published ports, the
/// connection cap, host CA trust, and the engine's policy / DNS / TLS / secrets / interface subdocuments,
/// which travel as JSON exactly as upstream's network engine reads them. Immutable: every method returns a new builder.
/// </summary>
public sealed class NetworkBuilder
{
    /// <summary>Upper bound on <see cref="MaxConnections"/> (upstream <c>MAX_NETWORK_CONNECTIONS</c>).</summary>
    public const ulong MaxNetworkConnections = 4096;

    private readonly NetworkSpec _spec;
    private readonly string? _error;

    internal NetworkBuilder(NetworkSpec spec, string? error = null)
    {
        _spec = spec;
        _error = error;
    }

    /// <summary>Turns the network device on or off.</summary>
    public NetworkBuilder Enabled(bool enabled) => new(_spec with { Enabled = enabled }, _error);

    /// <summary>Publishes a TCP port on host loopback.</summary>
    public NetworkBuilder Port(ushort hostPort, ushort guestPort) => AddPort(IPAddress.Loopback, hostPort, guestPort, PortProtocol.Tcp);

    /// <summary>Publishes a TCP port on a given host address.</summary>
    public NetworkBuilder PortBind(IPAddress hostBind, ushort hostPort, ushort guestPort) => AddPort(hostBind, hostPort, guestPort, PortProtocol.Tcp);

    /// <summary>Publishes a UDP port on host loopback.</summary>
    public NetworkBuilder PortUdp(ushort hostPort, ushort guestPort) => AddPort(IPAddress.Loopback, hostPort, guestPort, PortProtocol.Udp);

    /// <summary>Publishes a UDP port on a given host address.</summary>
    public NetworkBuilder PortUdpBind(IPAddress hostBind, ushort hostPort, ushort guestPort) => AddPort(hostBind, hostPort, guestPort, PortProtocol.Udp);

    /// <summary>Caps concurrent guest connections (at most <see cref="MaxNetworkConnections"/>).</summary>
    public NetworkBuilder MaxConnections(ulong max) =>
        max > MaxNetworkConnections
            ? new(_spec, _error ?? $"max_connections {max} exceeds hard limit {MaxNetworkConnections}")
            : new(_spec with { MaxConnections = max }, _error);

    /// <summary>Copies the host's trusted root CAs into the guest at boot (for TLS-inspecting proxies).</summary>
    public NetworkBuilder TrustHostCas(bool enabled) => new(_spec with { TrustHostCas = enabled }, _error);

    /// <summary>Sets the egress/ingress policy subdocument (upstream <c>NetworkPolicy</c> JSON).</summary>
    public NetworkBuilder Policy(JsonElement policy) => new(_spec with { Policy = policy.Clone() }, _error);

    /// <summary>
    /// Allows outbound traffic to the given profiles' destination groups (and DNS through the gateway), denies the
    /// rest: upstream's <c>--net public,host</c>. No profiles at all denies every destination.
    /// </summary>
    public NetworkBuilder Profiles(params NetworkProfile[] profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        return new(_spec with { Policy = NetworkPolicies.FromProfiles(profiles) }, _error);
    }

    /// <summary>
    /// Puts rules ahead of the policy's current ones (upstream's default, public only, when none is set), written in
    /// upstream's rule token grammar (<c>msb --net-rule</c>): comma-separated
    /// <c>&lt;action&gt;[:&lt;direction&gt;]@&lt;target&gt;[:&lt;proto&gt;[:&lt;ports&gt;]]</c>, e.g.
    /// <c>"deny@198.51.100.5,allow@host:tcp:5432"</c>. First match wins, so these take precedence.
    /// </summary>
    public NetworkBuilder Rules(string tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        IReadOnlyList<System.Text.Json.Nodes.JsonObject> rules;
        try
        {
            rules = NetworkRuleTokens.Parse(tokens);
        }
        catch (FormatException e)
        {
            return new(_spec, _error ?? "network.policy.rules: " + e.Message);
        }
        var policy = System.Text.Json.Nodes.JsonNode.Parse((_spec.Policy ?? NetworkPolicies.Default).GetRawText())!.AsObject();
        var existing = policy["rules"]?.AsArray().Select(r => r?.DeepClone()).ToList() ?? [];
        policy["rules"] = new System.Text.Json.Nodes.JsonArray([.. rules, .. existing]);
        using var document = JsonDocument.Parse(policy.ToJsonString());
        return new(_spec with { Policy = document.RootElement.Clone() }, _error);
    }

    /// <summary>Denies all traffic in both directions (upstream <c>NetworkPolicy::none()</c>); published ports stay reachable.</summary>
    public NetworkBuilder DenyAll() => new(_spec with { Policy = NetworkPolicies.None }, _error);

    /// <summary>Allows all traffic, the host's services and private ranges included (upstream <c>NetworkPolicy::allow_all()</c>).</summary>
    public NetworkBuilder AllowAll() => new(_spec with { Policy = NetworkPolicies.AllowAll }, _error);

    /// <summary>Sets the DNS interception subdocument.</summary>
    public NetworkBuilder Dns(JsonElement dns) => new(_spec with { Dns = dns.Clone() }, _error);

    /// <summary>Sets the TLS interception subdocument.</summary>
    public NetworkBuilder Tls(JsonElement tls) => new(_spec with { Tls = tls.Clone() }, _error);

    /// <summary>Sets the secret injection subdocument.</summary>
    public NetworkBuilder Secrets(JsonElement secrets) => new(_spec with { Secrets = secrets.Clone() }, _error);

    /// <summary>Sets the guest interface overrides subdocument.</summary>
    public NetworkBuilder Interface(JsonElement overrides) => new(_spec with { Interface = overrides.Clone() }, _error);

    internal NetworkSpec Spec => _spec;

    internal string? Error => _error;

    private NetworkBuilder AddPort(IPAddress hostBind, ushort hostPort, ushort guestPort, PortProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(hostBind);
        var port = new PublishedPortSpec
        {
            HostPort = hostPort,
            GuestPort = guestPort,
            Protocol = protocol,
            HostBind = hostBind.ToString(),
        };
        return new(_spec with { Ports = [.. _spec.Ports, port] }, _error);
    }
}
