namespace Microsandbox.Agent;

/// <summary>Bits of the frame header's flags byte. The relay routes on them without decoding CBOR.</summary>
public static class FrameFlags
{
    /// <summary>The last message for its correlation id.</summary>
    public const byte Terminal = 0b0000_0001;

    /// <summary>The first message of a new session (exec or fs request).</summary>
    public const byte SessionStart = 0b0000_0010;

    /// <summary>A request to shut the sandbox down.</summary>
    public const byte Shutdown = 0b0000_0100;
}
