using Microsandbox.Agent;

namespace Microsandbox.Tests.Agent;

public sealed class FrameReaderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Hands out its bytes in chunks of a fixed size, as a socket might.</summary>
    private sealed class ChunkedStream(byte[] data, int chunk) : Stream
    {
        private int _position;
        public int Reads { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            Reads++;
            var n = Math.Min(Math.Min(count, chunk), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static byte[] Frame(uint id, int bodyLength) =>
        FrameCodec.Encode(id, 0, Enumerable.Range(0, bodyLength).Select(i => (byte)(i * 7 + id)).ToArray());

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64 * 1024)]
    public async Task Frames_come_back_exactly_whatever_the_read_sizes(int chunk)
    {
        var frames = new[] { Frame(1, 10), Frame(2, 0), Frame(3, 5000), Frame(4, 1) };
        var reader = new FrameReader(new ChunkedStream(frames.SelectMany(f => f).ToArray(), chunk), bufferBytes: 4096);
        foreach (var expected in frames)
            Assert.Equal(expected, await reader.ReadWireAsync(Ct));
        Assert.Null(await reader.ReadWireAsync(Ct));
    }

    [Fact]
    public async Task A_burst_of_frames_costs_one_read()
    {
        var burst = Enumerable.Range(1, 3).SelectMany(i => Frame((uint)i, 20)).ToArray();
        var stream = new ChunkedStream(burst, int.MaxValue);
        var reader = new FrameReader(stream);
        for (uint id = 1; id <= 3; id++)
            Assert.Equal(id, (await reader.ReadAsync(Ct))!.Value.Id);
        Assert.Equal(1, stream.Reads);
    }

    [Fact]
    public async Task A_frame_larger_than_the_buffer_is_read_whole()
    {
        var big = Frame(9, 100_000);
        var reader = new FrameReader(new ChunkedStream([.. Frame(8, 3), .. big], 1000), bufferBytes: 1024);
        Assert.Equal(8u, (await reader.ReadAsync(Ct))!.Value.Id);
        Assert.Equal(big, await reader.ReadWireAsync(Ct));
        Assert.Null(await reader.ReadWireAsync(Ct));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(12)]
    public async Task End_of_stream_inside_a_frame_is_a_protocol_error(int keep)
    {
        var cut = Frame(1, 20)[..keep];
        var reader = new FrameReader(new ChunkedStream(cut, 5));
        var error = await Assert.ThrowsAsync<AgentProtocolException>(async () => await reader.ReadWireAsync(Ct));
        Assert.Contains("ended inside a frame", error.Message);
    }

    [Fact]
    public async Task Oversized_length_prefix_is_rejected_before_reading_the_body()
    {
        var reader = new FrameReader(new ChunkedStream([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0], 64));
        var error = await Assert.ThrowsAsync<AgentProtocolException>(async () => await reader.ReadWireAsync(Ct));
        Assert.Contains("frame too large", error.Message);
    }
}
