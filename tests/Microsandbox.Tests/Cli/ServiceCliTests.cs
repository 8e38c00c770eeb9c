using System.Diagnostics;
using System.Text.Json;
using Microsandbox.Tests.Services;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.Cli;

/// <summary>
/// The service commands as a user types them, each a separate <c>microsandbox</c> process (argv, no shell):
/// <c>run -d</c> with the image's own command, <c>exec</c> passing the exit code through, <c>logs</c>, <c>inspect</c>,
/// <c>ls</c>, <c>stop</c>, <c>rm</c>.
/// </summary>
public sealed class ServiceCliTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_detached_exec_logs_inspect_stop_rm_round_trip()
    {
        VmEnvironment.RequireVm();
        var image = ServiceImages.Path("redis");
        var name = VmEnvironment.UniqueName("cli-redis");
        try
        {
            var run = await CliAsync("run", "-d", "--name", name, "--image", image, "-p", "0:6379");
            Assert.Equal(0, run.Code);
            Assert.Equal(name + "\n", run.Stdout);

            // Detached: the creating process is gone, the service runs on.
            var ping = await WaitForAsync(async () => await CliAsync("exec", name, "--", "redis-cli", "PING"), r => r.Stdout == "PONG\n");
            Assert.Equal(0, ping.Code);
            var failing = await CliAsync("exec", name, "--", "sh", "-c", "echo to stderr >&2; exit 42");
            Assert.Equal(42, failing.Code);
            Assert.Equal("to stderr\n", failing.Stderr);

            var logs = await CliAsync("logs", name);
            Assert.Equal(0, logs.Code);
            Assert.Contains("Ready to accept connections", logs.Stdout, StringComparison.Ordinal);
            var stamped = await CliAsync("logs", "--tail", "1", "-t", "--all", name);
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ", stamped.Stdout);

            using (var running = JsonDocument.Parse((await CliAsync("inspect", name)).Stdout))
            {
                Assert.Equal("Running", running.RootElement.GetProperty("status").GetString());
                Assert.Equal(JsonValueKind.Null, running.RootElement.GetProperty("exit_code").ValueKind);
                Assert.EndsWith("→6379/tcp", running.RootElement.GetProperty("ports")[0].GetString(), StringComparison.Ordinal);
            }
            Assert.Contains(name, (await CliAsync("ls")).Stdout, StringComparison.Ordinal);

            var stop = await CliAsync("stop", name);
            Assert.Equal(0, stop.Code);
            using (var stopped = JsonDocument.Parse((await CliAsync("inspect", name)).Stdout))
            {
                Assert.Equal("Stopped", stopped.RootElement.GetProperty("status").GetString());
                Assert.Equal(0, stopped.RootElement.GetProperty("exit_code").GetInt32());
            }
            Assert.Contains("Received SIGTERM scheduling shutdown", (await CliAsync("logs", name)).Stdout, StringComparison.Ordinal);

            // Started again: the same sandbox (its logs kept), its main process again.
            var start = await CliAsync("start", name);
            Assert.Equal(0, start.Code);
            Assert.Equal(name + "\n", start.Stdout);
            Assert.Equal("PONG\n", (await WaitForAsync(async () => await CliAsync("exec", name, "--", "redis-cli", "PING"), r => r.Stdout == "PONG\n")).Stdout);
            var twice = (await CliAsync("logs", name)).Stdout;
            Assert.Equal(2, twice.Split('\n').Count(l => l.Contains("Ready to accept connections", StringComparison.Ordinal)));
            Assert.NotEqual(0, (await CliAsync("start", name)).Code); // already running
            Assert.Equal(0, (await CliAsync("stop", name)).Code);
            var notRunning = await CliAsync("exec", name, "--", "true");
            Assert.NotEqual(0, notRunning.Code);
            Assert.Contains($"sandbox '{name}' is not running", notRunning.Stderr, StringComparison.Ordinal);

            Assert.Equal(0, (await CliAsync("rm", name)).Code);
            Assert.NotEqual(0, (await CliAsync("inspect", name)).Code);
            Assert.Empty(LifecycleTests.QemuProcessesFor(name));
        }
        finally
        {
            await CliAsync("rm", "--force", name);
        }
    }

    [Fact]
    public async Task Run_without_a_command_streams_the_images_own_process_until_ctrl_c_stops_it_gracefully()
    {
        VmEnvironment.RequireVm();
        var psi = CliStartInfo("run", "--image", ServiceImages.Path("redis"));
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        var seen = new List<string>();
        using (var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            cts.CancelAfter(TimeSpan.FromSeconds(120));
            while (await process.StandardOutput.ReadLineAsync(cts.Token) is { } line)
            {
                seen.Add(line);
                if (line.Contains("Ready to accept connections", StringComparison.Ordinal)) break;
            }
        }
        Assert.Contains(seen, l => l.Contains("Ready to accept connections", StringComparison.Ordinal));
        Assert.Equal(0, Microsandbox.Host.Libc.kill(process.Id, Microsandbox.Host.Libc.SIGINT));
        var rest = await process.StandardOutput.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        output.WriteLine(string.Join('\n', seen) + "\n" + rest + await stderr);
        Assert.Contains("Received SIGTERM scheduling shutdown", rest, StringComparison.Ordinal);
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task Run_without_a_command_refuses_an_image_that_has_none()
    {
        var result = await CliAsync("run", "--name", VmEnvironment.UniqueName("cli-none"));
        Assert.NotEqual(0, result.Code);
        Assert.Contains("main process: neither the builder (Entrypoint/Cmd) nor the image (ENTRYPOINT/CMD) defines a command to run", result.Stderr, StringComparison.Ordinal);
    }

    private sealed record CliResult(int Code, string Stdout, string Stderr);

    private static ProcessStartInfo CliStartInfo(params string[] args)
    {
        var psi = new ProcessStartInfo(Runtime.SandboxProcessLocator.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Microsandbox.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["MSB_HOME"] = VmEnvironment.Home;
        return psi;
    }

    private async Task<CliResult> CliAsync(params string[] args)
    {
        using var process = Process.Start(CliStartInfo(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(180), Ct);
        var result = new CliResult(process.ExitCode, await stdout, await stderr);
        output.WriteLine($"$ microsandbox {string.Join(' ', args)} → {result.Code}\n{result.Stdout}{result.Stderr}");
        return result;
    }

    private static async Task<CliResult> WaitForAsync(Func<Task<CliResult>> attempt, Func<CliResult, bool> done)
    {
        CliResult last = await attempt();
        for (int i = 0; i < 30 && !done(last); i++)
        {
            await Task.Delay(500, Ct);
            last = await attempt();
        }
        return last;
    }
}
