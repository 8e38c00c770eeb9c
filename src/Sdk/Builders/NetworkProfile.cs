namespace Microsandbox;

/// <summary>
/// Upstream's composable network access profiles (<c>msb --net public,host</c>): each allows one destination group
/// for the guest's outbound traffic, after an allowance for DNS through the sandbox's gateway; everything else is
/// denied. A sandbox with no policy gets <see cref="Public"/> alone.
/// </summary>
public enum NetworkProfile
{
    /// <summary>Public internet addresses: anything not private, loopback, link-local, metadata, multicast or the host.</summary>
    Public,

    /// <summary>Private and LAN ranges (RFC 1918, RFC 4193, carrier-grade NAT), the host's own LAN addresses included.</summary>
    Private,

    /// <summary>The host itself through the sandbox's gateway (<c>host.microsandbox.internal</c>): its loopback services.</summary>
    Host,
}
