using System.Net.Sockets;
using System.Text;
using Microsandbox.Agent;

namespace Microsandbox.Tests.Agent;

public sealed class AgentRelayTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>A relay wired to a fake guest over a real socket pair, past the ready handshake and serving.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        public required AgentRelay Relay { get; init; }
        public required FakeGuestAgent Guest { get; init; }
        public required SocketPair Pair { get; init; }
        public required string Dir { get; init; }
        public string SocketPath => Relay.SocketPath;

        public static async Task<Rig> StartAsync(AgentRelayOptions? options = null, GuestBootstrap? bootstrap = null, bool sendInit = false)
        {
            var pair = await SocketPair.CreateAsync();
            var dir = TempDir.Create();
            var relay = new AgentRelay(pair.Left, Path.Combine(dir, "run", "agent.sock"), options ?? new AgentRelayOptions { ClockSyncInterval = null });
            var guest = new FakeGuestAgent(pair.Right);
            guest.Start();
            if (sendInit)
            {
                await guest.SendAsync(AgentMessage.Create(0, new InitResolved(new ResolvedUser(1000, 1001))));
            }

            await guest.SendAsync(AgentMessage.Create(0, new ExecStdout("noise before ready"u8.ToArray())));
            await guest.SendAsync(FakeGuestAgent.ReadyMessage());
            await relay.WaitReadyAsync(bootstrap, Ct);
            relay.Start();
            return new Rig { Relay = relay, Guest = guest, Pair = pair, Dir = dir };
        }

        public Task<AgentClient> ConnectAsync(AgentClientOptions? options = null) => AgentClient.ConnectAsync(SocketPath, options, Ct);

        public async ValueTask DisposeAsync()
        {
            await Relay.DisposeAsync();
            await Guest.DisposeAsync();
            await Pair.DisposeAsync();
            try { Directory.Delete(Dir, true); } catch (IOException) { }
        }
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        for (var i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(20, Ct);
        }

        Assert.True(condition(), what);
    }

    [Fact]
    public async Task Ready_handshake_sends_bootstrap_first_acks_init_and_caches_the_ready_frame()
    {
        var bootstrap = new GuestBootstrap { Hostname = "vm1", User = "1000" };
        await using var rig = await Rig.StartAsync(bootstrap: bootstrap, sendInit: true);

        await Eventually(() => rig.Guest.Received.Count >= 2, "guest got bootstrap and init ack");
        var first = rig.Guest.Received.ElementAt(0);
        var second = rig.Guest.Received.ElementAt(1);
        Assert.Equal((MessageType.Bootstrap, 0u, (byte)0), (first.Type, first.Id, first.Flags));
        Assert.Equal(bootstrap, first.ReadPayload<GuestBootstrap>());
        Assert.Equal((MessageType.InitAck, 0u), (second.Type, second.Id));
        Assert.Equal(new ResolvedUser(1000, 1001), rig.Relay.InitContext?.DefaultUser);
        Assert.Equal(FakeGuestAgent.ReadyMessage().ToWireBytes(), rig.Relay.ReadyFrame.ToArray());

        await using var client = await rig.ConnectAsync();
        Assert.Equal(FakeGuestAgent.ReadyMessage().ToRawFrame().Body.ToArray(), client.ReadyFrame.Body.ToArray());
        Assert.Equal("fake-1.0", client.Ready.AgentVersion);
    }

    [Fact]
    public async Task Ready_wait_fails_clearly_when_the_guest_closes_or_stays_silent()
    {
        await using (var pair = await SocketPair.CreateAsync())
        {
            await using var relay = new AgentRelay(pair.Left, "/tmp/unused-relay.sock");
            pair.Right.Close();
            await Assert.ThrowsAsync<AgentConnectionException>(() => relay.WaitReadyAsync(null, Ct));
        }

        await using (var pair = await SocketPair.CreateAsync())
        {
            await using var relay = new AgentRelay(pair.Left, "/tmp/unused-relay.sock", new AgentRelayOptions { ReadyTimeout = TimeSpan.FromMilliseconds(200) });
            var error = await Assert.ThrowsAsync<AgentProtocolException>(() => relay.WaitReadyAsync(null, Ct));
            Assert.Contains("timed out waiting for core.ready", error.Message);
            Assert.Throws<InvalidOperationException>(relay.Start);
        }
    }

    [Fact]
    public async Task Clients_get_upstream_slot_ranges_and_frames_route_back_to_their_owner()
    {
        await using var rig = await Rig.StartAsync();
        await using var a = await rig.ConnectAsync();
        await using var b = await rig.ConnectAsync();
        const uint step = AgentProtocol.RelayIdRangeStep;
        Assert.Equal((1u, step), (a.IdStart, a.IdEndExclusive));
        Assert.Equal((step + 1, 2 * step), (b.IdStart, b.IdEndExclusive));
        Assert.Equal(2, rig.Relay.ClientCount);

        var runs = Enumerable.Range(0, 6).Select(async i =>
        {
            var client = i % 2 == 0 ? a : b;
            var input = Encoding.UTF8.GetBytes($"client {(i % 2 == 0 ? "a" : "b")} run {i};");
            var result = await client.ExecBufferedAsync(new ExecRequest("cat"), input, Ct);
            return (Expected: Encoding.UTF8.GetString(input), Got: result.StdoutText);
        }).ToList();
        foreach (var run in await Task.WhenAll(runs))
        {
            Assert.Equal(run.Expected, run.Got);
        }

        await a.PingAsync(Ct);
        await b.PingAsync(Ct);
        Assert.All(rig.Guest.Received.Where(m => m.Type == MessageType.ExecRequest),
            m => Assert.True(m.Id is >= 1 and < 2 * step));
    }

    [Fact]
    public async Task Disconnect_kills_active_execs_then_tells_the_guest_and_frees_the_slot()
    {
        await using var rig = await Rig.StartAsync();
        var a = await rig.ConnectAsync();
        var session = await a.ExecAsync(new ExecRequest("sleep"), Ct);
        await Eventually(() => rig.Relay.ActiveExecSessions == 1, "relay tracks the running exec");
        await a.DisposeAsync();

        await Eventually(() => rig.Guest.Received.Any(m => m.Type == MessageType.RelayClientDisconnected), "guest told of the disconnect");
        var afterRequest = rig.Guest.Received.SkipWhile(m => m.Type != MessageType.ExecRequest).ToList();
        var kill = afterRequest.First(m => m.Type == MessageType.ExecSignal);
        Assert.Equal((session.Id, 9), (kill.Id, kill.ReadPayload<ExecSignal>().Signal));
        var disconnected = afterRequest.Single(m => m.Type == MessageType.RelayClientDisconnected);
        Assert.Equal(0u, disconnected.Id);
        Assert.Equal(new RelayClientDisconnected(1, AgentProtocol.RelayIdRangeStep), disconnected.ReadPayload<RelayClientDisconnected>());
        Assert.True(afterRequest.IndexOf(kill) < afterRequest.IndexOf(disconnected));
        Assert.Equal(0, rig.Relay.ActiveExecSessions);

        await using var again = await rig.ConnectAsync();
        Assert.Equal(1u, again.IdStart);
    }

    [Fact]
    public async Task Finished_execs_are_not_killed_on_disconnect()
    {
        await using var rig = await Rig.StartAsync();
        var a = await rig.ConnectAsync();
        await a.ExecBufferedAsync(new ExecRequest("echo") { Args = ["x"] }, cancellationToken: Ct);
        Assert.Equal(0, rig.Relay.ActiveExecSessions);
        await a.DisposeAsync();
        await Eventually(() => rig.Guest.Received.Any(m => m.Type == MessageType.RelayClientDisconnected), "guest told of the disconnect");
        Assert.DoesNotContain(rig.Guest.Received, m => m.Type == MessageType.ExecSignal);
    }

    [Fact]
    public async Task A_client_frame_outside_its_range_disconnects_that_client()
    {
        await using var rig = await Rig.StartAsync();
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(rig.SocketPath), Ct);
        await using var stream = new NetworkStream(socket);
        var greeting = new byte[8 + rig.Relay.ReadyFrame.Length];
        await stream.ReadExactlyAsync(greeting, Ct);
        Assert.Equal(rig.Relay.ReadyFrame.ToArray(), greeting[8..]);

        await stream.WriteAsync(AgentMessage.Create(0, new Ping()).ToWireBytes(), Ct); // id 0 is not in [1, step)
        await AssertClosedByPeerAsync(stream);
        Assert.DoesNotContain(rig.Guest.Received, m => m.Type == MessageType.Ping);
    }

    [Fact]
    public async Task Shutdown_with_id_zero_is_forwarded_and_raises_the_event()
    {
        await using var rig = await Rig.StartAsync();
        var requested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rig.Relay.ShutdownRequested += (_, _) => requested.TrySetResult();
        await using var client = await rig.ConnectAsync();
        await client.ShutdownAsync(Ct);
        await requested.Task.WaitAsync(Ct);
        await Eventually(() => rig.Guest.Received.Any(m => m.Type == MessageType.Shutdown), "guest got core.shutdown");
        var shutdown = rig.Guest.Received.Single(m => m.Type == MessageType.Shutdown);
        Assert.Equal((0u, FrameFlags.Shutdown), (shutdown.Id, shutdown.Flags));
    }

    [Fact]
    public async Task Guest_channel_closing_fires_the_event_and_closes_clients()
    {
        await using var rig = await Rig.StartAsync();
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rig.Relay.GuestClosed += (_, _) => fired.TrySetResult();
        await using var client = await rig.ConnectAsync();
        var session = await client.ExecAsync(new ExecRequest("sleep"), Ct);

        await rig.Guest.DisposeAsync();
        await fired.Task.WaitAsync(Ct);
        await rig.Relay.GuestCompletion.WaitAsync(Ct);
        await client.Completion.WaitAsync(Ct);
        await Assert.ThrowsAsync<AgentConnectionException>(async () => await session.Events.ToListAsync(Ct));
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_dropped_instead_of_stalling_the_others()
    {
        var options = new AgentRelayOptions { ClockSyncInterval = null, ClientQueueFrames = 4, SlowClientTimeout = TimeSpan.FromMilliseconds(500) };
        await using var rig = await Rig.StartAsync(options);
        await using var slow = await rig.ConnectAsync(new AgentClientOptions { ExecBufferFrames = 2 });
        await using var other = await rig.ConnectAsync();

        var flood = await slow.ExecAsync(new ExecRequest("flood") { Args = ["4000", "16384"] }, Ct); // 64 MiB nobody reads
        await Eventually(() => rig.Guest.FramesWritten > 20, "flood started");

        var echo = await other.ExecBufferedAsync(new ExecRequest("echo") { Args = ["still", "served"] }, cancellationToken: Ct);
        Assert.Equal("still served\n", echo.StdoutText);
        // The slow client only notices once it reads again: its buffered output, then the closed connection.
        await Assert.ThrowsAsync<AgentConnectionException>(async () => await flood.Events.ToListAsync(Ct));
        await slow.Completion.WaitAsync(Ct);
        Assert.Equal(1, rig.Relay.ClientCount);
    }

    [Fact]
    public async Task Activity_ignores_maintenance_traffic()
    {
        var time = new ManualTime();
        var start = time.Now;
        await using var rig = await Rig.StartAsync(new AgentRelayOptions { ClockSyncInterval = null, TimeProvider = time });
        await using var client = await rig.ConnectAsync();

        time.Now = start.AddMinutes(1);
        await client.PingAsync(Ct);
        Assert.Equal(start.AddMinutes(1), rig.Relay.LastClientFrame);
        Assert.Equal(start, rig.Relay.LastActivity);

        time.Now = start.AddMinutes(2);
        await client.ExecBufferedAsync(new ExecRequest("echo"), cancellationToken: Ct);
        Assert.Equal(start.AddMinutes(2), rig.Relay.LastActivity);
        Assert.Equal(start.AddMinutes(2), rig.Relay.LastGuestFrame);
    }

    [Fact]
    public async Task Clock_sync_is_sent_when_serving_starts()
    {
        await using var rig = await Rig.StartAsync(new AgentRelayOptions { ClockSyncInterval = TimeSpan.FromHours(1) });
        await Eventually(() => rig.Guest.Received.Any(m => m.Type == MessageType.ClockSync), "clock sync sent");
        var sync = rig.Guest.Received.First(m => m.Type == MessageType.ClockSync);
        Assert.Equal((0u, (byte)0), (sync.Id, sync.Flags));
        var sent = DateTimeOffset.UnixEpoch.AddTicks((long)(sync.ReadPayload<ClockSync>().UnixTimeNanos / 100));
        Assert.True(sent > new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero));
    }

    /// <summary>The relay closed the connection: end of stream, or a reset when it closed with our bytes unread.</summary>
    private static async Task AssertClosedByPeerAsync(Stream stream)
    {
        try
        {
            Assert.Equal(0, await stream.ReadAsync(new byte[1], Ct));
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
        }
    }

    private static async Task<(Socket Socket, NetworkStream Stream, uint Start, uint End)> RawConnectAsync(Rig rig)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(rig.SocketPath), Ct);
        var stream = new NetworkStream(socket, ownsSocket: true);
        var greeting = new byte[8 + rig.Relay.ReadyFrame.Length];
        await stream.ReadExactlyAsync(greeting, Ct);
        var (start, end) = AgentClient.ParseIdRange(greeting);
        return (socket, stream, start, end);
    }

    [Fact]
    public async Task The_relay_serves_128_clients_and_turns_away_the_next()
    {
        await using var rig = await Rig.StartAsync();
        var clients = new List<(Socket Socket, NetworkStream Stream, uint Start, uint End)>();
        for (var i = 0; i < AgentProtocol.RelayMaxClients; i++)
        {
            clients.Add(await RawConnectAsync(rig));
        }

        const uint step = AgentProtocol.RelayIdRangeStep;
        Assert.Equal((127 * step + 1, 128 * step), (clients[^1].Start, clients[^1].End));
        Assert.Equal(clients.Count, clients.Select(c => c.Start).Distinct().Count());

        using var extra = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await extra.ConnectAsync(new UnixDomainSocketEndPoint(rig.SocketPath), Ct);
        Assert.Equal(0, await extra.ReceiveAsync(new byte[16], SocketFlags.None, Ct));

        foreach (var client in clients)
        {
            await client.Stream.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_oversize_frame_from_a_client_disconnects_only_that_client()
    {
        await using var rig = await Rig.StartAsync();
        await using var good = await rig.ConnectAsync();
        var bad = await RawConnectAsync(rig);
        await bad.Stream.WriteAsync(new byte[] { 0x00, 0x40, 0x00, 0x01, 0, 0, 0, 1, 0 }, Ct);
        await AssertClosedByPeerAsync(bad.Stream);
        await bad.Stream.DisposeAsync();
        await good.PingAsync(Ct);
    }

    [Fact]
    public async Task A_corrupt_guest_length_prefix_counts_as_the_guest_going_away()
    {
        await using var rig = await Rig.StartAsync();
        await using var client = await rig.ConnectAsync();
        await rig.Pair.Right.WriteAsync(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, Ct);
        await rig.Relay.GuestCompletion.WaitAsync(Ct);
        await client.Completion.WaitAsync(Ct);
    }

    [Fact]
    public async Task Disposing_the_relay_removes_the_socket_file()
    {
        var rig = await Rig.StartAsync();
        Assert.True(File.Exists(rig.SocketPath));
        await rig.Relay.DisposeAsync();
        Assert.False(File.Exists(rig.SocketPath));
        await rig.DisposeAsync();
    }
}
