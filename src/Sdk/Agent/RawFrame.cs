namespace Microsandbox.Agent;

/// <summary>
/// One frame with its binary header parsed and its CBOR body (<c>{v,t,p}</c>) left untouched.
/// This is what relays route: they never need to decode the body.
/// </summary>
/// <param name="Id">Correlation id from the header.</param>
/// <param name="Flags">Flags byte from the header (<see cref="FrameFlags"/>).</param>
/// <param name="Body">The CBOR envelope bytes that follow the header.</param>
public readonly record struct RawFrame(uint Id, byte Flags, ReadOnlyMemory<byte> Body)
{
    /// <summary>Whether the frame closes its correlation id.</summary>
    public bool IsTerminal => (Flags & FrameFlags.Terminal) != 0;

    /// <summary>Whether the frame opens a session.</summary>
    public bool IsSessionStart => (Flags & FrameFlags.SessionStart) != 0;

    /// <summary>Whether the frame asks for shutdown.</summary>
    public bool IsShutdown => (Flags & FrameFlags.Shutdown) != 0;

    /// <summary>Total bytes on the wire: length prefix + header + body.</summary>
    public int WireLength => AgentProtocol.LengthPrefixSize + AgentProtocol.FrameHeaderSize + Body.Length;
}
