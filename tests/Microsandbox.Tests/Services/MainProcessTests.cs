using Microsandbox.Spec;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.Services;

/// <summary>
/// A sandbox's main process (<see cref="SandboxBuilder.MainProcess"/>): started after boot by the sandbox process,
/// its output kept as timestamped log lines, its exit code recorded, the sandbox stopped when it ends (unless kept),
/// and a stop that sends the stop signal to its process group first.
/// </summary>
public sealed class MainProcessTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SandboxBuilder Busybox(string prefix, params string[] script) =>
        new SandboxBuilder(VmEnvironment.UniqueName(prefix)).Image(BuiltinImages.Busybox).Ephemeral().Cmd(["/bin/sh", "-c", .. script]);

    [Fact]
    public async Task The_main_process_runs_its_output_is_kept_and_its_exit_code_ends_the_sandbox()
    {
        VmEnvironment.RequireVm();
        await using var sb = await Sandbox.CreateAsync(
            Busybox("main-exit", "echo hello from main; echo oops >&2; printf 'no newline'; exit 3").MainProcess(),
            VmEnvironment.Options(output), Ct);
        Assert.True(sb.HasMainProcess);
        await sb.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.Equal(3, await sb.GetExitCodeAsync(Ct));
        var logs = await sb.GetLogsAsync(cancellationToken: Ct);
        foreach (var l in logs) output.WriteLine(l.ToString());
        Assert.Contains(logs, l => l is { Source: LogSource.Stdout, Text: "hello from main" });
        Assert.Contains(logs, l => l is { Source: LogSource.Stderr, Text: "oops" });
        // A last line without its newline is kept when the process ends.
        Assert.Contains(logs, l => l is { Source: LogSource.Stdout, Text: "no newline" });
        Assert.DoesNotContain(logs, l => l.Source == LogSource.System);
        Assert.All(logs, l => Assert.InRange(l.Timestamp, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow));

        var system = await sb.GetLogsAsync(new LogOptions { Sources = [LogSource.System] }, Ct);
        Assert.Contains(system, l => l.Text == "main process exited with code 3");
        Assert.Single(await sb.GetLogsAsync(new LogOptions { Tail = 1, Sources = [LogSource.Stderr] }, Ct));

        // Kept for the handle until it is disposed, then gone like any ephemeral sandbox.
        var dir = sb.LogDirectory;
        await sb.DisposeAsync();
        Assert.False(Directory.Exists(dir));
        await using var store = await Microsandbox.State.StateStore.OpenAsync(VmEnvironment.Home, Ct);
        Assert.Null(await store.GetSandboxAsync(sb.Name, Ct));
    }

    [Fact]
    public async Task Stop_sends_the_stop_signal_to_the_main_process_group_and_records_how_it_ended()
    {
        VmEnvironment.RequireVm();
        await using var sb = await Sandbox.CreateAsync(
            Busybox("main-stop", "trap 'echo got INT; exit 0' INT; echo up; while true; do sleep 0.2; done")
                .MainProcess().StopSignal("INT"),
            VmEnvironment.Options(output), Ct);
        await WaitForLineAsync(sb, "up");

        await sb.StopAsync(Ct);

        var logs = await sb.GetLogsAsync(new LogOptions { Sources = [LogSource.Stdout, LogSource.System] }, Ct);
        foreach (var l in logs) output.WriteLine(l.ToString());
        Assert.Contains(logs, l => l.Text == "stopping main process with SIGINT");
        Assert.Contains(logs, l => l is { Source: LogSource.Stdout, Text: "got INT" });
        Assert.Contains(logs, l => l.Text == "main process exited with code 0");
        Assert.Equal(0, await sb.GetExitCodeAsync(Ct));
    }

    [Fact]
    public async Task A_main_process_that_ignores_the_stop_signal_is_killed_after_the_grace_period()
    {
        VmEnvironment.RequireVm();
        await using var sb = await Sandbox.CreateAsync(
            Busybox("main-kill", "trap '' TERM; echo up; while true; do sleep 0.2; done")
                .MainProcess().StopTimeout(TimeSpan.FromSeconds(1)),
            VmEnvironment.Options(output), Ct);
        await WaitForLineAsync(sb, "up");

        await sb.StopAsync(Ct);

        var system = await sb.GetLogsAsync(new LogOptions { Sources = [LogSource.System] }, Ct);
        foreach (var l in system) output.WriteLine(l.ToString());
        Assert.Contains(system, l => l.Text == "main process did not stop in time; sending SIGKILL");
        // The agent reports a process killed by a signal as -1, as upstream's does.
        Assert.Equal(-1, await sb.GetExitCodeAsync(Ct));
    }

    [Fact]
    public async Task With_keepVm_the_sandbox_outlives_its_main_process_and_follow_sees_lines_as_they_come()
    {
        VmEnvironment.RequireVm();
        await using var sb = await Sandbox.CreateAsync(
            Busybox("main-keep", "for i in 1 2 3; do echo line $i; sleep 0.3; done").MainProcess(keepVm: true),
            VmEnvironment.Options(output), Ct);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        var seen = new List<string>();
        await foreach (var entry in sb.FollowLogsAsync(cancellationToken: cts.Token))
        {
            seen.Add(entry.Text);
            if (seen.Count == 3) break;
        }
        Assert.Equal(["line 1", "line 2", "line 3"], seen);
        await WaitForLineAsync(sb, "main process exited with code 0", LogSource.System);
        Assert.True(sb.IsRunning);
        Assert.Equal("still here\n", (await sb.ShellAsync("echo still here", Ct)).Stdout);
    }

    [Fact]
    public async Task Asking_for_a_main_process_without_a_command_is_refused_before_anything_starts()
    {
        var name = VmEnvironment.UniqueName("main-none");
        var e = await Assert.ThrowsAsync<InvalidConfigException>(() => Sandbox.CreateAsync(
            new SandboxBuilder(name).Image(BuiltinImages.Busybox).Ephemeral().MainProcess(), VmEnvironment.Options(output), Ct));
        Assert.Equal("main process: neither the builder (Entrypoint/Cmd) nor the image (ENTRYPOINT/CMD) defines a command to run", e.Message);
        await using var store = await Microsandbox.State.StateStore.OpenAsync(VmEnvironment.Home, Ct);
        Assert.Null(await store.GetSandboxAsync(name, Ct));
    }

    [Fact]
    public void A_stop_signal_that_is_not_one_is_refused_naming_the_field()
    {
        var e = Assert.Throws<InvalidConfigException>(() => new SandboxBuilder("x").Image("redis:7").StopSignal("SIGBOGUS").Build());
        Assert.Equal("stop_signal: 'SIGBOGUS' is not a signal name (SIGTERM, TERM) or a number 1..64", e.Message);
    }

    private static async Task WaitForLineAsync(Sandbox sb, string text, LogSource source = LogSource.Stdout)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        await foreach (var entry in sb.FollowLogsAsync(new LogOptions { Sources = [source] }, cts.Token))
        {
            if (entry.Text == text) return;
        }
        Assert.Fail($"'{text}' never appeared in the logs of {sb.Name}");
    }
}
