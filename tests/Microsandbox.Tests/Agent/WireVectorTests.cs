using System.Text;
using Microsandbox.Agent;

namespace Microsandbox.Tests.Agent;

/// <summary>
/// Byte vectors derived by hand from upstream's types (serde + ciborium: structs are definite-length maps with text keys
/// in declaration order, Option is null unless skipped, byte buffers are byte strings) and the envelope
/// <c>{"v","t","p"}</c> whose <c>p</c> is a byte string holding the payload's own CBOR.
/// </summary>
public sealed class WireVectorTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "").Replace("|", ""));

    private static string Text(string s) => Convert.ToHexString(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Ping_frame_matches_hand_derived_bytes()
    {
        // len 25 | id 5 | flags 0 | {v:7, t:"core.ping", p:h'a0'}
        var expected = Hex("00000019 | 00000005 | 00 | a3 6176 07 6174 69" + Text("core.ping") + " 6170 41 a0");
        var message = AgentMessage.Create(5, new Ping());
        Assert.Equal(expected, message.ToWireBytes());

        var decoded = AgentMessage.FromRawFrame(DecodeOne(expected));
        Assert.Equal((5u, (byte)0, (byte)7, MessageType.Ping), (decoded.Id, decoded.Flags, decoded.Version, decoded.Type));
        Assert.Equal(new Ping(), decoded.ReadPayload<Ping>());
    }

    [Fact]
    public void Ready_payload_omits_empty_agent_version_and_uses_minimal_integers()
    {
        var payload = Hex("a3 6c" + Text("boot_time_ns") + "1a000f4240 6c" + Text("init_time_ns") + "1901f4 6d"
                          + Text("ready_time_ns") + "1818");
        Assert.Equal(51, payload.Length);
        var expected = Hex("0000004d 00000000 00 a3 6176 07 6174 6a" + Text("core.ready") + " 6170 5833") .Concat(payload).ToArray();

        var message = AgentMessage.Create(0, new Ready(1_000_000, 500, 24));
        Assert.Equal(expected, message.ToWireBytes());
        Assert.Equal(new Ready(1_000_000, 500, 24), AgentMessage.FromRawFrame(DecodeOne(expected)).ReadPayload<Ready>());
    }

    [Fact]
    public void Ready_payload_writes_agent_version_when_present()
    {
        var bytes = AgentMessage.EncodePayload(new Ready(0, 0, 0, "0.6.18"));
        var expected = Hex("a4 6c" + Text("boot_time_ns") + "00 6c" + Text("init_time_ns") + "00 6d" + Text("ready_time_ns")
                           + "00 6d" + Text("agent_version") + "66" + Text("0.6.18"));
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Exec_request_frame_writes_all_nine_fields_with_nulls_and_defaults()
    {
        var payload = Hex("a9 63" + Text("cmd") + "64" + Text("echo")
                          + "64" + Text("args") + "81 62" + Text("hi")
                          + "63" + Text("env") + "80"
                          + "63" + Text("cwd") + "f6"
                          + "64" + Text("user") + "f6"
                          + "63" + Text("tty") + "f4"
                          + "64" + Text("rows") + "1818"
                          + "64" + Text("cols") + "1850"
                          + "67" + Text("rlimits") + "80");
        Assert.Equal(63, payload.Length);
        var expected = Hex("00000060 01000001 02 a3 6176 07 6174 71" + Text("core.exec.request") + " 6170 583f")
            .Concat(payload).ToArray();

        var message = AgentMessage.Create(0x01000001, new ExecRequest("echo") { Args = ["hi"] });
        Assert.Equal(FrameFlags.SessionStart, message.Flags);
        Assert.Equal(expected, message.ToWireBytes());

        var back = AgentMessage.FromRawFrame(DecodeOne(expected)).ReadPayload<ExecRequest>();
        Assert.Equal("echo", back.Cmd);
        Assert.Equal(["hi"], back.Args);
        Assert.Null(back.Cwd);
        Assert.Equal((ushort)24, back.Rows);
        Assert.Equal((ushort)80, back.Cols);
    }

    [Fact]
    public void Exec_stdout_carries_data_as_a_byte_string()
    {
        var expected = Hex("00000029 00000007 00 a3 6176 07 6174 70" + Text("core.exec.stdout") + " 6170 4a a1 64"
                           + Text("data") + "43 68690a");
        var message = AgentMessage.Create(7, new ExecStdout("hi\n"u8.ToArray()));
        Assert.Equal(expected, message.ToWireBytes());
        Assert.Equal("hi\n"u8.ToArray(), AgentMessage.FromRawFrame(DecodeOne(expected)).ReadPayload<ExecStdout>().Data.ToArray());
    }

    [Theory]
    [InlineData(-1, "20")]
    [InlineData(42, "182a")]
    [InlineData(0, "00")]
    [InlineData(-300, "39012b")]
    public void Exec_exited_is_terminal_and_encodes_signed_codes(int code, string codeHex)
    {
        var payload = Hex("a1 64" + Text("code") + codeHex);
        var body = Hex("a3 6176 07 6174 70" + Text("core.exec.exited") + "6170").Concat(Hex((0x40 + payload.Length).ToString("x2"))).Concat(payload).ToArray();
        var expected = Hex((5 + body.Length).ToString("x8") + "00000007 01").Concat(body).ToArray();

        var message = AgentMessage.Create(7, new ExecExited(code));
        Assert.True(message.IsTerminal);
        Assert.Equal(expected, message.ToWireBytes());
        Assert.Equal(code, AgentMessage.FromRawFrame(DecodeOne(expected)).ReadPayload<ExecExited>().Code);
    }

    [Fact]
    public void Fs_request_uses_externally_tagged_op()
    {
        var payload = Hex("a1 62" + Text("op") + "a1 64" + Text("Stat") + "a2 64" + Text("path") + "64" + Text("/etc")
                          + "6e" + Text("follow_symlink") + "f5");
        Assert.Equal(37, payload.Length);
        var expected = Hex("00000044 00000003 02 a3 6176 07 6174 6f" + Text("core.fs.request") + "6170 5825").Concat(payload).ToArray();

        var message = AgentMessage.Create(3, new FsRequest(new FsOp.Stat("/etc", true)));
        Assert.Equal(expected, message.ToWireBytes());
        Assert.Equal(new FsOp.Stat("/etc", true), AgentMessage.FromRawFrame(DecodeOne(expected)).ReadPayload<FsRequest>().Op);
    }

    [Fact]
    public void Fs_open_and_read_ops_match_hand_derived_payloads()
    {
        var open = AgentMessage.EncodePayload(new FsRequest(new FsOp.OpenFile("/f", FsOpenOptions.ForWrite)));
        Assert.Equal(Hex("a1 62" + Text("op") + "a1 68" + Text("OpenFile") + "a2 64" + Text("path") + "62" + Text("/f")
                         + "67" + Text("options") + "a7 64" + Text("read") + "f4 65" + Text("write") + "f5 66" + Text("append")
                         + "f4 66" + Text("create") + "f5 68" + Text("truncate") + "f5 6a" + Text("create_new") + "f4 64"
                         + Text("mode") + "f6"), open);

        var read = AgentMessage.EncodePayload(new FsRequest(new FsOp.Read(9, 0, null)));
        Assert.Equal(Hex("a1 62" + Text("op") + "a1 64" + Text("Read") + "a3 66" + Text("handle") + "09 66" + Text("offset")
                         + "00 63" + Text("len") + "f6"), read);
    }

    [Fact]
    public void Fs_response_with_handle_data_round_trips()
    {
        var expected = Hex("a3 62" + Text("ok") + "f5 65" + Text("error") + "f6 64" + Text("data") + "a1 66" + Text("Handle") + "07");
        Assert.Equal(expected, AgentMessage.EncodePayload(new FsResponse(true, null, new FsResponseData.Handle(7))));
        var message = new AgentMessage(3, FrameFlags.Terminal, 7, MessageType.FsResponse, expected);
        Assert.Equal(new FsResponseData.Handle(7), message.ReadPayload<FsResponse>().Data);
    }

    [Fact]
    public void Shutdown_is_sent_with_id_zero_shutdown_flag_and_null_payload()
    {
        var expected = Hex("0000001d 00000000 04 a3 6176 07 6174 6d" + Text("core.shutdown") + "6170 41 f6");
        Assert.Equal(expected, AgentMessage.Create(0, new Shutdown()).ToWireBytes());
    }

    [Fact]
    public void Exec_failed_decodes_snake_case_kind_and_nulls()
    {
        var payload = Hex("a5 64" + Text("kind") + "69" + Text("not_found") + "65" + Text("errno") + "02 6a" + Text("errno_name")
                          + "66" + Text("ENOENT") + "67" + Text("message") + "64" + Text("nope") + "65" + Text("stage") + "f6");
        var message = new AgentMessage(9, FrameFlags.Terminal, 7, MessageType.ExecFailed, payload);
        var failed = message.ReadPayload<ExecFailed>();
        Assert.Equal(new ExecFailed(ExecFailureKind.NotFound, 2, "ENOENT", "nope", null), failed);
        Assert.Equal(payload, AgentMessage.EncodePayload(failed));
    }

    [Fact]
    public void Decoder_ignores_unknown_fields_and_accepts_missing_optional_ones()
    {
        // {"pid": 12, "future": [1,2]} — an extra field a newer agent might add.
        var payload = Hex("a2 63" + Text("pid") + "0c 66" + Text("future") + "82 01 02");
        var message = new AgentMessage(1, 0, 7, MessageType.ExecStarted, payload);
        Assert.Equal(12u, message.ReadPayload<ExecStarted>().Pid);

        // ExecRequest with only "cmd": everything else takes upstream's defaults (rows 24, cols 80).
        var minimal = new AgentMessage(1, 2, 7, MessageType.ExecRequest, Hex("a1 63" + Text("cmd") + "62" + Text("ls")));
        var request = minimal.ReadPayload<ExecRequest>();
        Assert.Equal(("ls", (ushort)24, (ushort)80, false), (request.Cmd, request.Rows, request.Cols, request.Tty));
    }

    [Fact]
    public void Envelope_with_unknown_type_decodes_and_payload_type_mismatch_is_rejected()
    {
        var body = Hex("a3 6176 07 6174 6b" + Text("core.future") + "6170 41 a0");
        var message = AgentMessage.FromRawFrame(new RawFrame(1, 0, body));
        Assert.Equal("core.future", message.Type);
        Assert.False(MessageType.IsKnown(message.Type));
        Assert.Throws<AgentProtocolException>(() => message.ReadPayload<Ping>());
    }

    [Fact]
    public void Envelope_missing_type_is_a_protocol_error()
    {
        var body = Hex("a2 6176 07 6170 41 a0");
        var error = Assert.Throws<AgentProtocolException>(() => AgentMessage.FromRawFrame(new RawFrame(1, 0, body)));
        Assert.Contains("lacks field t", error.Message);
    }

    [Fact]
    public void Message_types_carry_upstream_flags_and_generations()
    {
        Assert.Equal(32, MessageType.All.Count);
        Assert.Equal(FrameFlags.Terminal, MessageType.FlagsOf(MessageType.Pong));
        Assert.Equal(FrameFlags.Terminal, MessageType.FlagsOf(MessageType.CoreError));
        Assert.Equal(FrameFlags.SessionStart, MessageType.FlagsOf(MessageType.FsRequest));
        Assert.Equal(FrameFlags.Shutdown, MessageType.FlagsOf(MessageType.Shutdown));
        Assert.Equal(0, MessageType.FlagsOf(MessageType.Bootstrap));
        Assert.Equal((byte)2, MessageType.IntroducedIn(MessageType.FsData));
        Assert.Equal((byte)5, MessageType.IntroducedIn(MessageType.CoreError));
        Assert.Equal((byte)6, MessageType.IntroducedIn(MessageType.Ping));
        Assert.Equal((byte)7, MessageType.IntroducedIn(MessageType.Bootstrap));
        Assert.Equal(33_554_431u, AgentProtocol.RelayIdRangeStep);
    }

    private static RawFrame DecodeOne(byte[] wire)
    {
        Assert.True(FrameCodec.TryDecode(wire, out var frame, out var consumed));
        Assert.Equal(wire.Length, consumed);
        return frame;
    }
}
