using System.Text.Json;

namespace Microsandbox.Spec;

/// <summary>
/// Network specification of a sandbox. Every field takes its default when missing. The rich local-engine
/// subdocuments (interface, policy, DNS, TLS, secrets) are carried as opaque JSON values.
/// </summary>
public sealed record NetworkSpec
{
    /// <summary>Whether networking is enabled (default <see langword="true"/>).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Guest interface overrides; omitted from JSON when <see langword="null"/>.</summary>
    public JsonElement? Interface { get; init; }

    /// <summary>Host-to-guest port mappings.</summary>
    public IReadOnlyList<PublishedPortSpec> Ports { get; init; } = [];

    /// <summary>Egress and ingress policy subdocument; omitted when <see langword="null"/>.</summary>
    public JsonElement? Policy { get; init; }

    /// <summary>DNS interception and filtering subdocument; omitted when <see langword="null"/>.</summary>
    public JsonElement? Dns { get; init; }

    /// <summary>TLS interception subdocument; omitted when <see langword="null"/>.</summary>
    public JsonElement? Tls { get; init; }

    /// <summary>Secret injection subdocument; omitted when <see langword="null"/>.</summary>
    public JsonElement? Secrets { get; init; }

    /// <summary>Maximum concurrent guest connections; written as <c>null</c> when unset.</summary>
    public ulong? MaxConnections { get; init; }

    /// <summary>Whether trusted host CAs are copied into the guest at boot.</summary>
    public bool TrustHostCas { get; init; }

    /// <summary>Whether both hold the same values (ports by content, subdocuments as equal JSON values).</summary>
    public bool Equals(NetworkSpec? other) =>
        other is not null
        && Enabled == other.Enabled
        && SpecEquality.Json(Interface, other.Interface)
        && SpecEquality.Sequence(Ports, other.Ports)
        && SpecEquality.Json(Policy, other.Policy)
        && SpecEquality.Json(Dns, other.Dns)
        && SpecEquality.Json(Tls, other.Tls)
        && SpecEquality.Json(Secrets, other.Secrets)
        && MaxConnections == other.MaxConnections
        && TrustHostCas == other.TrustHostCas;

    /// <summary>A hash consistent with <see cref="Equals(NetworkSpec?)"/>.</summary>
    public override int GetHashCode() => HashCode.Combine(Enabled, SpecEquality.SequenceHash(Ports), MaxConnections, TrustHostCas);
}
