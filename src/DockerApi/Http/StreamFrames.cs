using System.Buffers.Binary;

namespace Microsandbox.DockerApi.Http;

/// <summary>
/// Docker's multiplexed stream (logs, attach, exec without a TTY): each frame is one byte naming the stream
/// (0 stdin, 1 stdout, 2 stderr), three zero bytes, a big-endian 32-bit length, then that many bytes.
/// </summary>
internal static class StreamFrames
{
    public const byte Stdout = 1;
    public const byte Stderr = 2;

    /// <summary>The media type Docker gives multiplexed and raw streams.</summary>
    public const string MultiplexedMediaType = "application/vnd.docker.multiplexed-stream";
    public const string RawMediaType = "application/vnd.docker.raw-stream";

    /// <summary>Writes one frame; with <paramref name="raw"/> (a TTY) the bytes go out without a header.</summary>
    public static async Task WriteAsync(Stream destination, byte stream, ReadOnlyMemory<byte> payload, bool raw, CancellationToken cancellationToken)
    {
        if (payload.IsEmpty) return;
        if (!raw)
        {
            var header = new byte[8];
            header[0] = stream;
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)payload.Length);
            await destination.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        }
        await destination.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
    }
}
