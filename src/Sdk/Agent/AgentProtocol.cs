namespace Microsandbox.Agent;

/// <summary>
/// Fixed numbers of the agent protocol (upstream <c>microsandbox-protocol</c>, generation 7).
/// The binary frame header never changes shape; everything else evolves inside the CBOR body.
/// </summary>
public static class AgentProtocol
{
    /// <summary>The protocol generation this client speaks (the envelope's <c>v</c>).</summary>
    public const byte Version = 7;

    /// <summary>Largest allowed frame, counted after the 4-byte length prefix (id + flags + CBOR body): 4 MiB.</summary>
    public const int MaxFrameSize = 4 * 1024 * 1024;

    /// <summary>Bytes of <c>[id u32 BE][flags u8]</c> that sit between the length prefix and the CBOR body.</summary>
    public const int FrameHeaderSize = 5;

    /// <summary>Bytes of the big-endian length prefix in front of every frame.</summary>
    public const int LengthPrefixSize = 4;

    /// <summary>Largest data chunk put in one <c>core.fs.data</c> or <c>core.exec.stdin</c> frame (3 MiB, safely under the frame limit).</summary>
    public const int FsChunkSize = 3 * 1024 * 1024;

    /// <summary>Maximum number of clients the relay serves at once.</summary>
    public const uint RelayMaxClients = 128;

    /// <summary>Size of the correlation-id range given to each relay client slot (<c>u32::MAX / 128</c>).</summary>
    public const uint RelayIdRangeStep = uint.MaxValue / RelayMaxClients;

    /// <summary>Virtio-console port name the guest agent listens on.</summary>
    public const string AgentPortName = "agent";
}
