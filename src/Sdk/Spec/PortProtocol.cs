namespace Microsandbox.Spec;

/// <summary>Transport protocol of a published port. Wire form: <c>"tcp"</c>, <c>"udp"</c>.</summary>
public enum PortProtocol
{
    /// <summary>TCP (the default).</summary>
    Tcp,

    /// <summary>UDP.</summary>
    Udp,
}
