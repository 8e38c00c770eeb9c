using System.Net.Sockets;
using System.Text;
using Microsandbox.Agent;

namespace Microsandbox.Tests.Agent;

public sealed class AgentClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A client whose other end plays relay + guest, started on a real socket pair.</summary>
    private static async Task<(AgentClient Client, FakeGuestAgent Guest, SocketPair Pair)> ConnectAsync(
        uint idStart = 1, uint idEnd = AgentProtocol.RelayIdRangeStep, byte version = AgentProtocol.Version,
        AgentClientOptions? options = null, int readChunk = AgentProtocol.FsChunkSize)
    {
        var pair = await SocketPair.CreateAsync();
        var guest = new FakeGuestAgent(pair.Right) { ReadChunkSize = readChunk };
        await guest.SendHandshakeAsync(idStart, idEnd, version);
        var client = await AgentClient.ConnectAsync(pair.Left, options, Ct);
        guest.Start();
        return (client, guest, pair);
    }

    [Fact]
    public async Task Handshake_exposes_range_ready_payload_and_generation()
    {
        var (client, guest, pair) = await ConnectAsync(idStart: 33_554_432, idEnd: 67_108_863);
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;
        Assert.Equal((33_554_432u, 67_108_863u), (client.IdStart, client.IdEndExclusive));
        Assert.Equal(new Ready(1_000, 2_000, 3_000, "fake-1.0"), client.Ready);
        Assert.Equal(AgentProtocol.Version, client.NegotiatedVersion);
        Assert.Equal(FakeGuestAgent.ReadyMessage().ToRawFrame().Body.ToArray(), client.ReadyFrame.Body.ToArray());

        await client.PingAsync(Ct);
        var ping = Assert.Single(guest.Received);
        Assert.Equal(33_554_432u, ping.Id);
        Assert.Equal(MessageType.Ping, ping.Type);
    }

    [Theory]
    [InlineData(5u, 5u, "invalid relay id range")]
    [InlineData(9u, 3u, "invalid relay id range")]
    [InlineData(0u, 1u, "no usable nonzero ids")]
    public void Id_range_parsing_rejects_empty_ranges(uint start, uint end, string text)
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, start);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), end);
        var error = Assert.Throws<AgentProtocolException>(() => AgentClient.ParseIdRange(bytes));
        Assert.Contains(text, error.Message);
    }

    [Fact]
    public void Id_range_parsing_reads_big_endian_words()
    {
        Assert.Equal((1u, 33_554_431u), AgentClient.ParseIdRange([0, 0, 0, 1, 0x01, 0xFF, 0xFF, 0xFF]));
    }

    [Fact]
    public async Task Handshake_rejects_a_first_frame_that_is_not_ready()
    {
        await using var pair = await SocketPair.CreateAsync();
        await pair.Right.WriteAsync(new byte[] { 0, 0, 0, 1, 0, 0, 0, 9 }, Ct);
        await pair.Right.WriteAsync(AgentMessage.Create(0, new Pong()).ToWireBytes(), Ct);
        var error = await Assert.ThrowsAsync<AgentProtocolException>(() => AgentClient.ConnectAsync(pair.Left, null, Ct));
        Assert.Contains("expected core.ready frame, got core.pong", error.Message);
    }

    [Fact]
    public async Task Handshake_times_out_when_the_relay_stays_silent()
    {
        await using var pair = await SocketPair.CreateAsync();
        var options = new AgentClientOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(200) };
        var error = await Assert.ThrowsAsync<AgentProtocolException>(() => AgentClient.ConnectAsync(pair.Left, options, Ct));
        Assert.Contains("handshake", error.Message);
    }

    [Fact]
    public async Task Connect_retries_until_the_socket_appears_and_listens()
    {
        var dir = TempDir.Create();
        var path = Path.Combine(dir, "agent.sock");
        var connecting = AgentClient.ConnectAsync(path, new AgentClientOptions { ConnectTimeout = TimeSpan.FromSeconds(20) }, Ct);
        await Task.Delay(200, Ct);
        Assert.False(connecting.IsCompleted);

        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        using var server = await listener.AcceptAsync(Ct);
        var guest = new FakeGuestAgent(new NetworkStream(server, ownsSocket: false));
        await guest.SendHandshakeAsync(1, 100);
        await using var client = await connecting;
        Assert.Equal((1u, 100u), (client.IdStart, client.IdEndExclusive));
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Connect_to_a_missing_socket_fails_clearly_after_the_timeout()
    {
        var path = Path.Combine(TempDir.Create(), "missing.sock");
        var error = await Assert.ThrowsAsync<AgentConnectionException>(() =>
            AgentClient.ConnectAsync(path, new AgentClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) }, Ct));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public async Task Buffered_exec_collects_output_and_exit_code()
    {
        var (client, guest, pair) = await ConnectAsync();
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;

        var echo = await client.ExecBufferedAsync(new ExecRequest("echo") { Args = ["hello", "world"] }, cancellationToken: Ct);
        Assert.Equal(("hello world\n", "", 0), (echo.StdoutText, echo.StderrText, echo.ExitCode));

        var fail = await client.ExecBufferedAsync(new ExecRequest("fail") { Args = ["3"] }, cancellationToken: Ct);
        Assert.Equal(("", "boom\n", 3), (fail.StdoutText, fail.StderrText, fail.ExitCode));

        var cat = await client.ExecBufferedAsync(new ExecRequest("cat"), "piped in"u8.ToArray(), Ct);
        Assert.Equal("piped in", cat.StdoutText);
    }

    [Fact]
    public async Task Missing_command_surfaces_as_exec_failed_exception()
    {
        var (client, guest, pair) = await ConnectAsync();
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;

        var error = await Assert.ThrowsAsync<ExecFailedException>(() =>
            client.ExecBufferedAsync(new ExecRequest("no-such-command"), cancellationToken: Ct));
        Assert.Equal(ExecFailureKind.NotFound, error.Failure.Kind);
        Assert.Contains("'no-such-command': command not found (ENOENT, stage execvp)", error.Message);

        await using var session = await client.ExecAsync(new ExecRequest("no-such-command"), Ct);
        var events = await session.Events.ToListAsync(Ct);
        var failed = Assert.IsType<ExecEvent.Failed>(Assert.Single(events));
        Assert.Equal("ENOENT", failed.Error.ErrnoName);
    }

    [Fact]
    public async Task Two_concurrent_execs_are_multiplexed_on_distinct_ids()
    {
        var (client, guest, pair) = await ConnectAsync();
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;

        await using var a = await client.ExecAsync(new ExecRequest("cat"), Ct);
        await using var b = await client.ExecAsync(new ExecRequest("cat"), Ct);
        Assert.NotEqual(a.Id, b.Id);

        var readA = Collect(a);
        var readB = Collect(b);
        for (var i = 0; i < 20; i++)
        {
            await a.WriteStdinAsync(Encoding.UTF8.GetBytes($"a{i};"), Ct);
            await b.WriteStdinAsync(Encoding.UTF8.GetBytes($"b{i};"), Ct);
        }

        await a.CloseStdinAsync(Ct);
        await b.CloseStdinAsync(Ct);
        var (outA, codeA) = await readA;
        var (outB, codeB) = await readB;
        Assert.Equal(string.Concat(Enumerable.Range(0, 20).Select(i => $"a{i};")), outA);
        Assert.Equal(string.Concat(Enumerable.Range(0, 20).Select(i => $"b{i};")), outB);
        Assert.Equal((0, 0), (codeA, codeB));
        Assert.True(a.IsFinished && b.IsFinished);

        static async Task<(string, int)> Collect(ExecSession session)
        {
            var text = new StringBuilder();
            var code = -1;
            await foreach (var e in session.Events)
            {
                if (e is ExecEvent.Stdout o) text.Append(Encoding.UTF8.GetString(o.Data.Span));
                if (e is ExecEvent.Exited x) code = x.Code;
            }

            return (text.ToString(), code);
        }
    }

    [Fact]
    public async Task Stdin_stream_copies_input_and_closing_it_ends_the_command()
    {
        var (client, guest, pair) = await ConnectAsync();
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;

        await using var session = await client.ExecAsync(new ExecRequest("cat"), Ct);
        var input = new byte[5 * 1024 * 1024];
        new Random(3).NextBytes(input);
        var reading = Task.Run(async () =>
        {
            using var output = new MemoryStream();
            await foreach (var e in session.Events)
            {
                if (e is ExecEvent.Stdout o) output.Write(o.Data.Span);
            }

            return output.ToArray();
        }, Ct);
        await using (var stdin = session.OpenStdin())
        {
            await new MemoryStream(input).CopyToAsync(stdin, Ct);
        }

        Assert.Equal(input, await reading);
        Assert.Throws<InvalidOperationException>(() => session.WriteStdinAsync(new byte[1], Ct).GetAwaiter().GetResult());
    }

    [Fact]
    public async Task Signal_reaches_the_command_and_disposing_a_running_session_kills_it()
    {
        var (client, guest, pair) = await ConnectAsync();
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;

        await using (var sleeper = await client.ExecAsync(new ExecRequest("sleep"), Ct))
        {
            await sleeper.SignalAsync(15, Ct);
            var last = (await sleeper.Events.ToListAsync(Ct)).Last();
            Assert.Equal(new ExecEvent.Exited(143), last);
        }

        var running = await client.ExecAsync(new ExecRequest("sleep"), Ct);
        var id = running.Id;
        await running.DisposeAsync();
        await client.PingAsync(Ct); // ordered after the kill on the same connection
        var signal = guest.Received.Single(m => m.Id == id && m.Type == MessageType.ExecSignal);
        Assert.Equal(9, signal.ReadPayload<ExecSignal>().Signal);
    }

    [Fact]
    public async Task Slow_stdout_consumer_applies_back_pressure_instead_of_buffering()
    {
        const int frames = 2000, size = 16 * 1024;
        var (client, guest, pair) = await ConnectAsync(options: new AgentClientOptions { ExecBufferFrames = 8 });
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;

        await using var session = await client.ExecAsync(new ExecRequest("flood") { Args = [$"{frames}", $"{size}"] }, Ct);
        // Nobody reads: wait until the guest's writes stop making progress.
        long last = -1;
        while (guest.FramesWritten != last)
        {
            last = guest.FramesWritten;
            await Task.Delay(300, Ct);
        }

        // The session queue (8) plus the kernel socket buffers hold a small fraction of the output.
        Assert.InRange(guest.FramesWritten, 1, 400);

        long total = 0;
        int? code = null;
        await foreach (var e in session.Events)
        {
            if (e is ExecEvent.Stdout o) total += o.Data.Length;
            if (e is ExecEvent.Exited x) code = x.Code;
        }

        Assert.Equal((long)frames * size, total);
        Assert.Equal(0, code);
    }

    [Fact]
    public async Task Connection_loss_fails_pending_sessions_with_a_clear_error()
    {
        var (client, guest, pair) = await ConnectAsync();
        await using var __ = client;
        var session = await client.ExecAsync(new ExecRequest("sleep"), Ct);
        await guest.DisposeAsync();
        await pair.DisposeAsync();
        var error = await Assert.ThrowsAsync<AgentConnectionException>(async () => await session.Events.ToListAsync(Ct));
        Assert.Contains("closed", error.Message);
        await client.Completion.WaitAsync(Ct);
        await Assert.ThrowsAsync<AgentConnectionException>(() => client.PingAsync(Ct));
    }

    [Fact]
    public async Task Operations_newer_than_the_guest_generation_fail_locally()
    {
        var (client, guest, pair) = await ConnectAsync(version: 5);
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;

        Assert.Equal((byte)5, client.NegotiatedVersion);
        Assert.False(client.Supports(MessageType.Ping));
        Assert.True(client.Supports(MessageType.FsRequest));
        var error = await Assert.ThrowsAsync<AgentProtocolException>(() => client.PingAsync(Ct));
        Assert.Contains("too old for 'core.ping' (needs protocol generation 6, the sandbox speaks 5)", error.Message);
        await client.ExecBufferedAsync(new ExecRequest("echo"), cancellationToken: Ct); // still usable
        Assert.DoesNotContain(guest.Received, m => m.Type == MessageType.Ping);
    }

    [Fact]
    public async Task Ids_wrap_within_the_assigned_range_and_skip_ids_in_use()
    {
        var (client, guest, pair) = await ConnectAsync(idStart: 10, idEnd: 13);
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;

        await using var held = await client.ExecAsync(new ExecRequest("sleep"), Ct); // id 10 stays open
        for (var i = 0; i < 4; i++)
        {
            await client.PingAsync(Ct);
        }

        var pingIds = guest.Received.Where(m => m.Type == MessageType.Ping).Select(m => m.Id).ToList();
        Assert.Equal(10u, held.Id);
        Assert.Equal([11u, 12u, 11u, 12u], pingIds);
    }

    [Fact]
    public async Task Files_round_trip_in_chunks_and_metadata_operations_work()
    {
        var (client, guest, pair) = await ConnectAsync();
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;

        var data = new byte[10 * 1024 * 1024 + 123];
        new Random(42).NextBytes(data);
        await client.WriteFileAsync("/data/big.bin", data, cancellationToken: Ct);
        Assert.Equal(data, guest.Files["/data/big.bin"]);
        var chunks = guest.Received.Where(m => m.Type == MessageType.FsData).Select(m => m.ReadPayload<FsData>().Data.Length).ToList();
        Assert.Equal([AgentProtocol.FsChunkSize, AgentProtocol.FsChunkSize, AgentProtocol.FsChunkSize, data.Length - 3 * AgentProtocol.FsChunkSize, 0], chunks);
        var write = guest.Received.Select(m => m.Type == MessageType.FsRequest ? m.ReadPayload<FsRequest>().Op : null).OfType<FsOp.Write>().Single();
        Assert.Equal((ulong?)(ulong)data.Length, write.Len);

        Assert.Equal(data, await client.ReadFileAsync("/data/big.bin", Ct));

        await client.MkdirAsync("/data/sub", cancellationToken: Ct);
        await client.RenameAsync("/data/big.bin", "/data/moved.bin", Ct);
        var stat = await client.StatAsync("/data/moved.bin", cancellationToken: Ct);
        Assert.Equal(((ulong)data.Length, true), (stat.Size, stat.IsFile));
        var names = (await client.ListAsync("/data", Ct)).Select(e => (e.Path, e.Kind)).ToList();
        Assert.Equal([("/data/moved.bin", "file"), ("/data/sub", "dir")], names);
        await client.RemoveAsync("/data/moved.bin", Ct);
        Assert.Empty(guest.Files);
    }

    [Fact]
    public async Task Reading_a_missing_file_names_the_path_and_the_guest_error()
    {
        var (client, guest, pair) = await ConnectAsync();
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;

        var error = await Assert.ThrowsAsync<SandboxFsException>(() => client.ReadFileAsync("/nope", Ct));
        Assert.Equal("read '/nope' in the sandbox failed: open: No such file or directory (os error 2)", error.Message);
        await Assert.ThrowsAsync<SandboxFsException>(() => client.StatAsync("/nope", cancellationToken: Ct));
    }

    [Fact]
    public async Task File_read_streams_with_bounded_buffering()
    {
        var (client, guest, pair) = await ConnectAsync(options: new AgentClientOptions { FsBufferFrames = 2 }, readChunk: 64 * 1024);
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;
        var data = new byte[16 * 1024 * 1024];
        new Random(7).NextBytes(data);
        guest.Files["/f"] = data;

        await using var reader = client.ReadFileChunksAsync("/f", Ct).GetAsyncEnumerator(Ct);
        Assert.True(await reader.MoveNextAsync());
        long before = -1;
        while (guest.FramesWritten != before)
        {
            before = guest.FramesWritten;
            await Task.Delay(300, Ct);
        }

        Assert.InRange(guest.FramesWritten, 1, 128); // of 256 chunks
        using var all = new MemoryStream();
        all.Write(reader.Current.Span);
        while (await reader.MoveNextAsync())
        {
            all.Write(reader.Current.Span);
        }

        Assert.Equal(data, all.ToArray());
    }
}
