namespace Microsandbox.Spec;

/// <summary>A port published from the host into the guest.</summary>
public sealed record PublishedPortSpec
{
    /// <summary>Host-side port to bind. JSON <c>host_port</c>, required, 0..65535.</summary>
    public ushort HostPort { get; init; }

    /// <summary>Guest-side port to forward to. JSON <c>guest_port</c>, required, 0..65535.</summary>
    public ushort GuestPort { get; init; }

    /// <summary>Transport protocol; <see cref="PortProtocol.Tcp"/> when missing.</summary>
    public PortProtocol Protocol { get; init; } = PortProtocol.Tcp;

    /// <summary>Host address to bind. JSON <c>host_bind</c>, required on read; defaults to loopback here.</summary>
    public string HostBind { get; init; } = SpecDefaults.DefaultPortHostBind;
}
