using System.Buffers.Binary;

namespace Microsandbox.Agent;

/// <summary>
/// The CBOR-blind frame layer: <c>[len u32 BE][id u32 BE][flags u8][body]</c>, where <c>len</c> counts id + flags +
/// body and may not exceed <see cref="AgentProtocol.MaxFrameSize"/> nor be below <see cref="AgentProtocol.FrameHeaderSize"/>.
/// </summary>
public static class FrameCodec
{
    /// <summary>Encodes a frame into its exact wire bytes.</summary>
    /// <exception cref="AgentProtocolException">The frame would exceed the 4 MiB limit.</exception>
    public static byte[] Encode(RawFrame frame) => Encode(frame.Id, frame.Flags, frame.Body.Span);

    /// <summary>Encodes a frame from its parts into its exact wire bytes.</summary>
    /// <exception cref="AgentProtocolException">The frame would exceed the 4 MiB limit.</exception>
    public static byte[] Encode(uint id, byte flags, ReadOnlySpan<byte> body)
    {
        var frameLength = (long)AgentProtocol.FrameHeaderSize + body.Length;
        if (frameLength > AgentProtocol.MaxFrameSize)
        {
            throw TooLarge(frameLength);
        }

        var bytes = new byte[AgentProtocol.LengthPrefixSize + frameLength];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)frameLength);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), id);
        bytes[8] = flags;
        body.CopyTo(bytes.AsSpan(9));
        return bytes;
    }

    /// <summary>
    /// Tries to take one complete frame from the front of <paramref name="buffer"/>.
    /// Returns false when more bytes are needed; <paramref name="consumed"/> is then 0.
    /// </summary>
    /// <exception cref="AgentProtocolException">The length prefix announces a frame that is too large or too short.</exception>
    public static bool TryDecode(ReadOnlySpan<byte> buffer, out RawFrame frame, out int consumed)
    {
        frame = default;
        consumed = 0;
        if (buffer.Length < AgentProtocol.LengthPrefixSize)
        {
            return false;
        }

        var frameLength = BinaryPrimitives.ReadUInt32BigEndian(buffer);
        ValidateLength(frameLength);
        var total = AgentProtocol.LengthPrefixSize + (int)frameLength;
        if (buffer.Length < total)
        {
            return false;
        }

        var id = BinaryPrimitives.ReadUInt32BigEndian(buffer[4..]);
        var flags = buffer[8];
        frame = new RawFrame(id, flags, buffer[9..total].ToArray());
        consumed = total;
        return true;
    }

    /// <summary>
    /// Reads one frame from <paramref name="stream"/>. Returns null when the stream ends cleanly before a frame starts.
    /// </summary>
    /// <exception cref="AgentProtocolException">The frame is too large, too short, or the stream ends inside it.</exception>
    public static async ValueTask<RawFrame?> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        var prefix = new byte[AgentProtocol.LengthPrefixSize];
        var got = await stream.ReadAtLeastAsync(prefix, prefix.Length, throwOnEndOfStream: false, cancellationToken);
        if (got == 0)
        {
            return null;
        }

        if (got < prefix.Length)
        {
            throw new AgentProtocolException($"agent stream ended inside a frame's length prefix ({got} of 4 bytes)");
        }

        var frameLength = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        ValidateLength(frameLength);
        var rest = new byte[frameLength];
        got = await stream.ReadAtLeastAsync(rest, rest.Length, throwOnEndOfStream: false, cancellationToken);
        if (got < rest.Length)
        {
            throw new AgentProtocolException(
                $"agent stream ended inside a frame: got {got} of {frameLength} bytes after the length prefix");
        }

        var id = BinaryPrimitives.ReadUInt32BigEndian(rest);
        return new RawFrame(id, rest[4], rest.AsMemory(AgentProtocol.FrameHeaderSize));
    }

    /// <summary>Writes one frame to <paramref name="stream"/> and flushes it.</summary>
    public static async ValueTask WriteAsync(Stream stream, RawFrame frame, CancellationToken cancellationToken = default)
    {
        await stream.WriteAsync(Encode(frame), cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>Reads the id and flags of a complete wire frame (length prefix included) without copying it.</summary>
    internal static (uint Id, byte Flags) PeekHeader(ReadOnlySpan<byte> wire) =>
        (BinaryPrimitives.ReadUInt32BigEndian(wire[4..]), wire[8]);

    internal static void ValidateLength(uint frameLength)
    {
        if (frameLength > AgentProtocol.MaxFrameSize)
        {
            throw TooLarge(frameLength);
        }

        if (frameLength < AgentProtocol.FrameHeaderSize)
        {
            throw new AgentProtocolException(
                $"frame too short: {frameLength} bytes (minimum {AgentProtocol.FrameHeaderSize} for id and flags)");
        }
    }

    private static AgentProtocolException TooLarge(long size) =>
        new($"frame too large: {size} bytes (max {AgentProtocol.MaxFrameSize})");
}
