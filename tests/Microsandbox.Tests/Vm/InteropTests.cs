using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsandbox.Agent;
using Microsandbox.Host;

namespace Microsandbox.Tests.Vm;

/// <summary>
/// A sandbox started by our CLI is reached by the real upstream clients: the npm package's <c>AgentClient</c>
/// (its own framing, handshake and socket-path derivation) pings it and runs a command; <c>msb ls</c> lists it.
/// </summary>
public sealed class InteropTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Upstream_npm_agent_client_and_msb_ls_reach_a_sandbox_started_by_our_cli()
    {
        VmEnvironment.RequireVm();
        var npmModule = Path.Combine(MicrosandboxHome.UserInstallRoot(), "npm", "node_modules", "microsandbox", "dist", "index.js");
        if (!File.Exists(npmModule)) Assert.Skip($"the npm package microsandbox@{MicrosandboxDefaults.RuntimeVersion} is not installed at {npmModule} (./build.sh Install)");
        var node = Engines.Qemu.QemuAssets.FindOnPath("node");
        if (node is null) Assert.Skip("node is not installed");

        var name = VmEnvironment.UniqueName("interop");
        using var cli = StartCli("run", "--name", name, "--", "sh", "-c", "echo up; sleep 120");
        Assert.Equal("up", await cli.StandardOutput.ReadLineAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(90), Ct));
        try
        {
            var ping = AgentMessage.Create(0, new Ping()).EncodeBody();
            var exec = AgentMessage.Create(0, new ExecRequest("sh") { Args = ["-c", "echo from-npm; uname -s"] }).EncodeBody();
            var lines = await RunAsync(node!, [Path.Combine(AppContext.BaseDirectory, "fixtures", "interop", "agent-client.mjs"),
                npmModule, name, Convert.ToHexStringLower(ping), Convert.ToHexStringLower(exec)]);

            var messages = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
            var ready = Decode(messages.Single(m => m.GetProperty("kind").GetString() == "ready"), 0);
            Assert.Equal(MessageType.Ready, ready.Type);
            Assert.Equal(MessageType.Pong, Decode(messages.Single(m => m.GetProperty("kind").GetString() == "pong"), 1).Type);
            var execFrames = messages.Where(m => m.GetProperty("kind").GetString() == "exec").Select(m => Decode(m, 2)).ToList();
            var stdout = string.Concat(execFrames.Where(f => f.Type == MessageType.ExecStdout)
                .Select(f => Encoding.UTF8.GetString(f.ReadPayload<ExecStdout>().Data.Span)));
            Assert.Equal("from-npm\nLinux\n", stdout);
            Assert.Equal(0, execFrames.Single(f => f.Type == MessageType.ExecExited).ReadPayload<ExecExited>().Code);

            var msb = await MsbLocator.LocateAsync(Ct);
            if (msb.IsUsable)
            {
                var ls = string.Join('\n', await RunAsync(msb.MsbPath!, ["ls", "--format", "json"]));
                output.WriteLine(ls);
                Assert.Contains(name, ls);
            }
            else
            {
                output.WriteLine($"msb not installed, `msb ls` part skipped: {msb.Reason}");
            }
        }
        finally
        {
            cli.Kill();
            await cli.WaitForExitAsync(Ct);
        }
    }

    private static AgentMessage Decode(JsonElement line, int _) =>
        AgentMessage.FromRawFrame(new RawFrame(0, (byte)(line.TryGetProperty("flags", out var f) ? f.GetInt32() : 0), Convert.FromHexString(line.GetProperty("body").GetString()!)));

    private static Process StartCli(params string[] args)
    {
        var psi = new ProcessStartInfo(Runtime.SandboxProcessLocator.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Microsandbox.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["MSB_HOME"] = VmEnvironment.Home;
        return Process.Start(psi)!;
    }

    private async Task<List<string>> RunAsync(string program, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["MSB_HOME"] = VmEnvironment.Home;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(Ct);
        var stderr = p.StandardError.ReadToEndAsync(Ct);
        await p.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        output.WriteLine($"{Path.GetFileName(program)} stderr: {await stderr}");
        Assert.True(p.ExitCode == 0, $"{program} exited {p.ExitCode}: {await stderr}");
        return (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }
}
