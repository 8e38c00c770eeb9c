using System.Diagnostics;
using System.Text.Json;
using Microsandbox.Agent;

namespace Microsandbox.Tests.Agent;

/// <summary>
/// Points upstream's own agent client (the npm <c>microsandbox</c> package's <c>AgentClient</c>, a Node addon over the
/// Rust client) at our <see cref="AgentRelay"/>: it must accept our handshake, decode our <c>core.ready</c> with
/// ciborium, and get its frames routed to the guest and back.
/// </summary>
public sealed class UpstreamClientInteropTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Script = """
        const [pkg, sock, pingHex, execHex] = process.argv.slice(2);
        const { AgentClient } = await import(pkg);
        const client = await AgentClient.connect(sock);
        const out = { ready: client.readyBytes().toString("hex") };
        const pong = await client.request(0, Buffer.from(pingHex, "hex"));
        out.pong = { id: pong.id, flags: pong.flags, body: Buffer.from(pong.body).toString("hex") };
        const stream = await client.stream(2, Buffer.from(execHex, "hex"));
        out.execId = stream.id;
        out.exec = [];
        for await (const f of stream) out.exec.push({ id: f.id, flags: f.flags, body: Buffer.from(f.body).toString("hex") });
        await client.close();
        console.log(JSON.stringify(out));
        """;

    private static string? FindPackage()
    {
        var home = Environment.GetEnvironmentVariable("MSB_HOME")
                   ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".microsandbox");
        var entry = Path.Combine(home, "npm", "node_modules", "microsandbox", "dist", "index.js");
        return File.Exists(entry) ? entry : null;
    }

    private static string? FindNode() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(dir => Path.Combine(dir, "node")).FirstOrDefault(File.Exists);

    [Fact]
    public async Task Upstream_npm_agent_client_talks_through_our_relay()
    {
        var package = FindPackage();
        var node = FindNode();
        if (package is null || node is null)
        {
            Assert.Skip("needs node and the npm 'microsandbox' package under $MSB_HOME/npm (installed by the project's build)");
        }

        await using var pair = await SocketPair.CreateAsync();
        var dir = TempDir.Create();
        await using var relay = new AgentRelay(pair.Left, Path.Combine(dir, "agent.sock"), new AgentRelayOptions { ClockSyncInterval = null });
        await using var guest = new FakeGuestAgent(pair.Right);
        guest.Start();
        await guest.SendAsync(FakeGuestAgent.ReadyMessage());
        await relay.WaitReadyAsync(null, Ct);
        relay.Start();

        var script = Path.Combine(dir, "interop.mjs");
        await File.WriteAllTextAsync(script, Script, Ct);
        var ping = Convert.ToHexString(AgentMessage.Create(0, new Ping()).EncodeBody());
        var exec = Convert.ToHexString(AgentMessage.Create(0, new ExecRequest("echo") { Args = ["from", "node"] }).EncodeBody());
        var start = new ProcessStartInfo(node) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { script, new Uri(package).AbsoluteUri, relay.SocketPath, ping, exec })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        Assert.True(process.ExitCode == 0, $"node failed: {await stderr}");

        using var json = JsonDocument.Parse(await stdout);
        var root = json.RootElement;
        Assert.Equal(relay.ReadyFrame[9..].ToArray(), Convert.FromHexString(root.GetProperty("ready").GetString()!));

        var pong = root.GetProperty("pong");
        Assert.Equal(1u, pong.GetProperty("id").GetUInt32()); // first id of slot 0
        Assert.Equal(FrameFlags.Terminal, pong.GetProperty("flags").GetByte());
        var pongMessage = AgentMessage.FromRawFrame(new RawFrame(1, 1, Convert.FromHexString(pong.GetProperty("body").GetString()!)));
        Assert.Equal(MessageType.Pong, pongMessage.Type);

        var frames = root.GetProperty("exec").EnumerateArray()
            .Select(f => AgentMessage.FromRawFrame(new RawFrame(f.GetProperty("id").GetUInt32(), f.GetProperty("flags").GetByte(),
                Convert.FromHexString(f.GetProperty("body").GetString()!))))
            .ToList();
        Assert.Equal([MessageType.ExecStarted, MessageType.ExecStdout, MessageType.ExecExited], frames.Select(f => f.Type));
        Assert.Equal("from node\n", System.Text.Encoding.UTF8.GetString(frames[1].ReadPayload<ExecStdout>().Data.Span));
        Assert.All(frames, f => Assert.Equal(root.GetProperty("execId").GetUInt32(), f.Id));

        var received = guest.Received.Where(m => m.Type == MessageType.ExecRequest).Single();
        Assert.Equal(["from", "node"], received.ReadPayload<ExecRequest>().Args);
        Directory.Delete(dir, true);
    }
}
