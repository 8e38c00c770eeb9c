using Microsandbox.Agent;

namespace Microsandbox.Tests.Agent;

public sealed class FrameCodecTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Raw_frame_header_is_big_endian_length_id_flags()
    {
        var wire = FrameCodec.Encode(new RawFrame(0xDEADBEEF, FrameFlags.Terminal, new byte[] { 1, 2, 3 }));
        Assert.Equal(new byte[] { 0, 0, 0, 8, 0xDE, 0xAD, 0xBE, 0xEF, 1, 1, 2, 3 }, wire);
    }

    [Fact]
    public void Try_decode_needs_the_whole_frame_and_reports_consumed_bytes()
    {
        var first = FrameCodec.Encode(new RawFrame(1, 0, new byte[] { 9 }));
        var second = FrameCodec.Encode(new RawFrame(2, FrameFlags.SessionStart, new byte[] { 8, 7 }));
        var both = first.Concat(second).ToArray();

        Assert.False(FrameCodec.TryDecode(both.AsSpan(0, 3), out _, out var none));
        Assert.Equal(0, none);
        Assert.False(FrameCodec.TryDecode(both.AsSpan(0, first.Length - 1), out _, out _));

        Assert.True(FrameCodec.TryDecode(both, out var frame, out var consumed));
        Assert.Equal((1u, (byte)0, first.Length), (frame.Id, frame.Flags, consumed));
        Assert.True(FrameCodec.TryDecode(both.AsSpan(consumed), out var next, out _));
        Assert.Equal((2u, FrameFlags.SessionStart), (next.Id, next.Flags));
        Assert.Equal(new byte[] { 8, 7 }, next.Body.ToArray());
    }

    [Fact]
    public void Oversize_frames_are_rejected_on_encode_and_decode()
    {
        var body = new byte[AgentProtocol.MaxFrameSize - AgentProtocol.FrameHeaderSize + 1];
        var encodeError = Assert.Throws<AgentProtocolException>(() => FrameCodec.Encode(new RawFrame(1, 0, body)));
        Assert.Contains("frame too large", encodeError.Message);

        // Exactly at the limit is fine.
        var atLimit = FrameCodec.Encode(new RawFrame(1, 0, body.AsMemory(1)));
        Assert.Equal(AgentProtocol.MaxFrameSize + 4, atLimit.Length);

        var prefix = new byte[] { 0x00, 0x40, 0x00, 0x01 }; // 4 MiB + 1
        Assert.Throws<AgentProtocolException>(() => FrameCodec.TryDecode(prefix, out _, out _));
    }

    [Fact]
    public async Task Stream_reader_rejects_oversize_length_before_reading_the_body()
    {
        var stream = new MemoryStream([0x00, 0x40, 0x00, 0x01, 0, 0, 0, 0, 0]);
        var error = await Assert.ThrowsAsync<AgentProtocolException>(async () => await FrameCodec.ReadAsync(stream, Ct));
        Assert.Contains("4194305", error.Message);
        Assert.Equal(4, stream.Position);
    }

    [Fact]
    public void Frames_shorter_than_the_header_are_rejected()
    {
        var wire = new byte[] { 0, 0, 0, 3, 1, 2, 3 };
        var error = Assert.Throws<AgentProtocolException>(() => FrameCodec.TryDecode(wire, out _, out _));
        Assert.Contains("too short", error.Message);
    }

    [Fact]
    public async Task Stream_reader_reads_frames_then_null_at_clean_end()
    {
        var wire = FrameCodec.Encode(new RawFrame(7, FrameFlags.Terminal, new byte[] { 0xA0 }))
            .Concat(FrameCodec.Encode(new RawFrame(8, 0, Array.Empty<byte>()))).ToArray();
        var stream = new MemoryStream(wire);
        var one = await FrameCodec.ReadAsync(stream, Ct);
        var two = await FrameCodec.ReadAsync(stream, Ct);
        Assert.Equal((7u, FrameFlags.Terminal), (one!.Value.Id, one.Value.Flags));
        Assert.Equal(8u, two!.Value.Id);
        Assert.Equal(0, two.Value.Body.Length);
        Assert.Null(await FrameCodec.ReadAsync(stream, Ct));
    }

    [Theory]
    [InlineData(2)]   // inside the length prefix
    [InlineData(6)]   // inside the header
    [InlineData(11)]  // inside the body
    public async Task Stream_ending_inside_a_frame_is_a_truncation_error(int keep)
    {
        var wire = FrameCodec.Encode(new RawFrame(7, 0, new byte[] { 1, 2, 3, 4 }));
        var stream = new MemoryStream(wire[..keep]);
        var error = await Assert.ThrowsAsync<AgentProtocolException>(async () => await FrameCodec.ReadAsync(stream, Ct));
        Assert.Contains("ended inside", error.Message);
    }
}
