using Microsandbox.Agent;
using Microsandbox.Tests.Agent;

namespace Microsandbox.Tests.Hostile;

/// <summary>
/// A guest that misbehaves on purpose, scripted on the other end of a real socket: frames of unknown types, replies to
/// ids the host never sent, a malformed reply inside a live session, a length prefix that breaks framing, silence.
/// Each ends in a clear error for that session (or that connection) while the client, and every other session and
/// connection, carry on.
/// </summary>
public sealed class HostileGuestTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(AgentClient Client, FakeGuestAgent Guest, SocketPair Pair)> ConnectAsync(bool answer = true)
    {
        var pair = await SocketPair.CreateAsync();
        var guest = new FakeGuestAgent(pair.Right);
        await guest.SendHandshakeAsync(1, AgentProtocol.RelayIdRangeStep);
        var client = await AgentClient.ConnectAsync(pair.Left, null, Ct);
        if (answer) guest.Start();
        return (client, guest, pair);
    }

    private static byte[] Cbor(string text)
    {
        var writer = new System.Formats.Cbor.CborWriter();
        writer.WriteTextString(text);
        return writer.Encode();
    }

    [Fact]
    public async Task Unknown_types_and_replies_to_ids_never_sent_are_dropped()
    {
        var (client, guest, pair) = await ConnectAsync();
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;

        await guest.SendAsync(new AgentMessage(7_777_777, 0, AgentProtocol.Version, "core.made.up", Cbor("?")));
        await guest.SendAsync(new AgentMessage(424_242, 0, AgentProtocol.Version, MessageType.ExecStdout, Cbor("not for you")));
        await guest.SendAsync(new AgentMessage(424_243, FrameFlags.Terminal, AgentProtocol.Version, MessageType.ExecExited, new byte[] { 0xff, 0x00 }));

        var echo = await client.ExecBufferedAsync(new ExecRequest("echo") { Args = ["still", "fine"] }, cancellationToken: Ct);
        Assert.Equal(("still fine\n", 0), (echo.StdoutText, echo.ExitCode));
        await client.PingAsync(Ct);
    }

    [Fact]
    public async Task A_malformed_reply_fails_its_session_and_no_other()
    {
        var (client, guest, pair) = await ConnectAsync();
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;

        await using var victim = await client.ExecAsync(new ExecRequest("sleep"), Ct);
        await using var bystander = await client.ExecAsync(new ExecRequest("sleep"), Ct);
        // An "exited" whose payload is not CBOR at all, on the victim's id.
        await guest.SendAsync(new AgentMessage(victim.Id, FrameFlags.Terminal, AgentProtocol.Version, MessageType.ExecExited, new byte[] { 0xff, 0xff, 0xff }));

        var error = await Assert.ThrowsAsync<AgentProtocolException>(async () => await victim.Events.ToListAsync(Ct));
        Assert.Contains(MessageType.ExecExited, error.Message, StringComparison.Ordinal);
        await client.PingAsync(Ct);
        var echo = await client.ExecBufferedAsync(new ExecRequest("echo") { Args = ["alive"] }, cancellationToken: Ct);
        Assert.Equal("alive\n", echo.StdoutText);
        // The other session still runs: it takes a signal and reports its exit.
        await bystander.SignalAsync(15, Ct);
        var events = await bystander.Events.ToListAsync(Ct);
        Assert.Equal(128 + 15, Assert.IsType<ExecEvent.Exited>(events[^1]).Code);
    }

    [Fact]
    public async Task A_length_prefix_that_breaks_framing_ends_that_connection_only()
    {
        var (client, guest, pair) = await ConnectAsync(answer: false);
        await using var _ = pair;
        await using var ___ = client;
        var (other, otherGuest, otherPair) = await ConnectAsync();
        await using var o1 = otherPair;
        await using var o2 = otherGuest;
        await using var o3 = other;

        var pending = await client.ExecAsync(new ExecRequest("sleep"), Ct);
        await pair.Right.WriteAsync(new byte[] { 0xff, 0xff, 0xff, 0xf0 }, Ct); // a 4 GiB frame announced
        await pair.Right.FlushAsync(Ct);

        var error = await Assert.ThrowsAsync<AgentConnectionException>(async () => await pending.Events.ToListAsync(Ct));
        Assert.Contains("frame too large", error.Message, StringComparison.Ordinal);
        await client.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        // Another connection (another sandbox) is untouched.
        await other.PingAsync(Ct);
        Assert.Equal("ok\n", (await other.ExecBufferedAsync(new ExecRequest("echo") { Args = ["ok"] }, cancellationToken: Ct)).StdoutText);
        await guest.DisposeAsync();
    }

    [Fact]
    public async Task A_guest_that_never_answers_leaves_the_caller_in_control()
    {
        var (client, guest, pair) = await ConnectAsync(answer: false);
        await using var _ = pair;
        await using var __ = guest;
        await using var ___ = client;

        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PingAsync(patience.Token));
        using var patience2 = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience2.CancelAfter(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ExecBufferedAsync(new ExecRequest("echo"), cancellationToken: patience2.Token));
    }
}
