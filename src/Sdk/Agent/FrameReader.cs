using System.Buffers.Binary;

namespace Microsandbox.Agent;

/// <summary>
/// Reads frames from a byte stream through a buffer of its own, so a burst of frames (started, output, exited) costs
/// one read call instead of two per frame. One reader per stream; the stream's own errors (and end of stream) come
/// through unchanged, which a <see cref="BufferedStream"/> would not guarantee once the stream is disposed.
/// </summary>
internal sealed class FrameReader(Stream stream, int bufferBytes = 64 * 1024)
{
    private readonly byte[] _buffer = new byte[bufferBytes];
    private int _start;
    private int _end;

    private int Buffered => _end - _start;

    /// <summary>Reads exactly <paramref name="count"/> raw bytes (the relay's id-range greeting); fewer at end of stream.</summary>
    public async ValueTask<byte[]> ReadBytesAsync(int count, CancellationToken cancellationToken)
    {
        await FillAsync(count, cancellationToken);
        var n = Math.Min(count, Buffered);
        var bytes = _buffer.AsSpan(_start, n).ToArray();
        _start += n;
        return bytes;
    }

    /// <summary>One frame as its exact wire bytes (length prefix included); null at a clean end of stream.</summary>
    /// <exception cref="AgentProtocolException">The frame is too large, too short, or the stream ends inside it.</exception>
    public async ValueTask<byte[]?> ReadWireAsync(CancellationToken cancellationToken)
    {
        await FillAsync(AgentProtocol.LengthPrefixSize, cancellationToken);
        if (Buffered == 0) return null;
        if (Buffered < AgentProtocol.LengthPrefixSize)
            throw new AgentProtocolException($"agent stream ended inside a frame's length prefix ({Buffered} of 4 bytes)");

        var frameLength = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start));
        FrameCodec.ValidateLength(frameLength);
        var total = AgentProtocol.LengthPrefixSize + (int)frameLength;
        var wire = new byte[total];
        if (total <= _buffer.Length)
        {
            await FillAsync(total, cancellationToken);
            if (Buffered < total) throw EndedInside(frameLength);
            _buffer.AsSpan(_start, total).CopyTo(wire);
            _start += total;
            return wire;
        }

        // Larger than the buffer: take what is buffered, read the rest straight into the frame.
        var have = Buffered;
        _buffer.AsSpan(_start, have).CopyTo(wire);
        _start = _end = 0;
        var got = await stream.ReadAtLeastAsync(wire.AsMemory(have), total - have, throwOnEndOfStream: false, cancellationToken);
        if (got < total - have) throw EndedInside(frameLength);
        return wire;
    }

    /// <summary>One frame, header parsed; null at a clean end of stream.</summary>
    public async ValueTask<RawFrame?> ReadAsync(CancellationToken cancellationToken)
    {
        var wire = await ReadWireAsync(cancellationToken);
        if (wire is null) return null;
        var (id, flags) = FrameCodec.PeekHeader(wire);
        return new RawFrame(id, flags, wire.AsMemory(AgentProtocol.LengthPrefixSize + AgentProtocol.FrameHeaderSize));
    }

    // Ensures at least `count` (≤ buffer size) bytes are buffered, or the stream has ended.
    private async ValueTask FillAsync(int count, CancellationToken cancellationToken)
    {
        if (Buffered >= count) return;
        if (_buffer.Length - _start < count)
        {
            _buffer.AsSpan(_start, Buffered).CopyTo(_buffer);
            _end = Buffered;
            _start = 0;
        }
        while (Buffered < count)
        {
            var n = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (n == 0) return;
            _end += n;
        }
    }

    private static AgentProtocolException EndedInside(uint frameLength) =>
        new($"agent stream ended inside a frame of {frameLength} bytes after the length prefix");
}
