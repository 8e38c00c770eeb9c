using System.Formats.Cbor;
using Microsandbox.Agent.Cbor;

namespace Microsandbox.Agent;

/// <summary>
/// One protocol message: the frame header (<see cref="Id"/>, <see cref="Flags"/>) plus the CBOR envelope
/// <c>{"v": generation, "t": wire type, "p": payload}</c>. Upstream encodes <c>p</c> as a CBOR <b>byte string</b> whose
/// content is the payload's own CBOR encoding (serde_bytes), not as an embedded map.
/// </summary>
/// <param name="Id">Correlation id.</param>
/// <param name="Flags">Frame flags.</param>
/// <param name="Version">Protocol generation echoed in the envelope.</param>
/// <param name="Type">Wire type (<see cref="MessageType"/>).</param>
/// <param name="Payload">The payload's CBOR bytes.</param>
public sealed record AgentMessage(uint Id, byte Flags, byte Version, string Type, ReadOnlyMemory<byte> Payload)
{
    /// <summary>Builds a message for a typed payload with the flags its type requires and the current generation.</summary>
    public static AgentMessage Create<T>(uint id, T payload) where T : IAgentPayload<T> =>
        new(id, MessageType.FlagsOf(T.WireType), AgentProtocol.Version, T.WireType, EncodePayload(payload));

    /// <summary>Whether the message closes its correlation id.</summary>
    public bool IsTerminal => (Flags & FrameFlags.Terminal) != 0;

    /// <summary>Encodes a payload on its own (the bytes that go in <c>p</c>).</summary>
    public static byte[] EncodePayload<T>(T payload) where T : IAgentPayload<T>
    {
        var writer = CborFields.NewWriter();
        payload.WriteTo(writer);
        return writer.Encode();
    }

    /// <summary>Decodes the payload as <typeparamref name="T"/>.</summary>
    /// <exception cref="AgentProtocolException">The type differs or the CBOR does not decode.</exception>
    public T ReadPayload<T>() where T : IAgentPayload<T>
    {
        if (!string.Equals(Type, T.WireType, StringComparison.Ordinal))
        {
            throw new AgentProtocolException($"expected a {T.WireType} message on id {Id}, got {Type}");
        }

        try
        {
            var reader = CborFields.NewReader(Payload);
            return T.ReadFrom(reader);
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new AgentProtocolException($"{Type} payload on id {Id} does not decode: {e.Message}", e);
        }
    }

    /// <summary>Encodes the envelope <c>{v,t,p}</c> (the frame body).</summary>
    public byte[] EncodeBody()
    {
        var writer = CborFields.NewWriter();
        writer.WriteStartMap(3);
        writer.WriteTextString("v");
        writer.WriteUInt32(Version);
        writer.WriteTextString("t");
        writer.WriteTextString(Type);
        writer.WriteTextString("p");
        writer.WriteByteString(Payload.Span);
        writer.WriteEndMap();
        return writer.Encode();
    }

    /// <summary>The frame for this message.</summary>
    public RawFrame ToRawFrame() => new(Id, Flags, EncodeBody());

    /// <summary>The exact wire bytes of this message (length prefix included).</summary>
    public byte[] ToWireBytes() => FrameCodec.Encode(Id, Flags, EncodeBody());

    /// <summary>Decodes a frame's envelope. Unknown wire types are kept as they are, not rejected.</summary>
    /// <exception cref="AgentProtocolException">The body is not a valid envelope.</exception>
    public static AgentMessage FromRawFrame(RawFrame frame)
    {
        var (version, type, payload) = DecodeEnvelope(frame.Body, readPayload: true, frame.Id);
        return new AgentMessage(frame.Id, frame.Flags, version, type, payload);
    }

    /// <summary>Reads only the wire type from a frame body, without copying the payload (used by the relay).</summary>
    internal static string? PeekType(ReadOnlyMemory<byte> body)
    {
        try
        {
            return DecodeEnvelope(body, readPayload: false, 0).Type;
        }
        catch (AgentProtocolException)
        {
            return null;
        }
    }

    private static (byte Version, string Type, ReadOnlyMemory<byte> Payload) DecodeEnvelope(
        ReadOnlyMemory<byte> body, bool readPayload, uint id)
    {
        try
        {
            var reader = CborFields.NewReader(body);
            byte? version = null;
            string? type = null;
            ReadOnlyMemory<byte>? payload = null;
            CborFields.ReadMap(reader, key =>
            {
                switch (key)
                {
                    case "v":
                        var v = reader.ReadUInt32();
                        version = v > byte.MaxValue ? throw new AgentProtocolException($"envelope v={v} is not a u8") : (byte)v;
                        return true;
                    case "t":
                        type = reader.ReadTextString();
                        return true;
                    case "p" when readPayload:
                        payload = CborFields.ReadBytes(reader);
                        return true;
                    default:
                        return false;
                }
            });
            if (version is null || type is null || (readPayload && payload is null))
            {
                throw new AgentProtocolException(
                    $"message envelope on id {id} lacks field {(version is null ? "v" : type is null ? "t" : "p")}");
            }

            return (version.Value, type, payload ?? ReadOnlyMemory<byte>.Empty);
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new AgentProtocolException($"message envelope on id {id} does not decode: {e.Message}", e);
        }
    }
}
