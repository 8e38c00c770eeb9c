using System.Collections.Concurrent;
using Microsandbox.Orchestration;
using Microsandbox.State;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.Orchestration;

/// <summary>The orchestrator against real QEMU guests: streaming, exit codes, time limits, cancellation, test runs over a bind mount. Every path must leave no VM behind.</summary>
public sealed class OrchestratorVmTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private SandboxOrchestrator Orchestrator() => new(VmEnvironment.Options(output));

    [Fact]
    public async Task Run_streams_lines_per_stream_returns_the_exit_code_and_removes_the_sandbox()
    {
        VmEnvironment.RequireVm();
        var name = VmEnvironment.UniqueName("orch-run");
        var lines = new ConcurrentQueue<OutputLine>();
        var result = await Orchestrator().RunAsync(
            new SandboxRequest { Name = name, Environment = new Dictionary<string, string> { ["GREETING"] = "hi" } },
            CommandRequest.Shell("echo \"$GREETING\" one; echo two >&2; printf partial; exit 3"),
            OutputSink.FromCallback(lines.Enqueue), Ct);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal(name, result.SandboxName);
        Assert.Equal("hi one\npartial", result.StandardOutput);
        Assert.Equal("two\n", result.StandardError);
        Assert.Equal(["hi one", "partial"], lines.Where(l => l.Stream == OutputStream.Stdout).Select(l => l.Text));
        Assert.Equal(["two"], lines.Where(l => l.Stream == OutputStream.Stderr).Select(l => l.Text));
        await AssertGoneAsync(name);
    }

    [Fact]
    public async Task Run_kills_a_command_past_its_timeout_and_removes_the_sandbox()
    {
        VmEnvironment.RequireVm();
        var name = VmEnvironment.UniqueName("orch-tmo");
        var command = CommandRequest.Shell("echo started; sleep 300") with { Timeout = TimeSpan.FromSeconds(3) };
        var lines = new ConcurrentQueue<OutputLine>();
        var e = await Assert.ThrowsAsync<CommandTimeoutException>(() =>
            Orchestrator().RunAsync(new SandboxRequest { Name = name }, command, OutputSink.FromCallback(lines.Enqueue), Ct));
        Assert.Equal(name, e.SandboxName);
        Assert.Contains("did not finish within 3 s", e.Message, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Text == "started");
        await AssertGoneAsync(name);
    }

    [Fact]
    public async Task Run_cancelled_mid_command_removes_the_sandbox()
    {
        VmEnvironment.RequireVm();
        var name = VmEnvironment.UniqueName("orch-cxl");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        // Cancel as soon as the guest proves the command is running.
        var sink = OutputSink.FromCallback(line => { if (line.Text == "running") cancel.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Orchestrator().RunAsync(new SandboxRequest { Name = name }, CommandRequest.Shell("echo running; sleep 300"), sink, cancel.Token));
        Assert.True(cancel.IsCancellationRequested);
        await AssertGoneAsync(name);
    }

    [Fact]
    public async Task Run_tests_runs_a_command_over_the_bound_build_output_and_writes_results_back()
    {
        VmEnvironment.RequireVm();
        var output = Directory.CreateTempSubdirectory("msbo-out-").FullName;
        await File.WriteAllTextAsync(Path.Combine(output, "run-tests.sh"),
            "#!/bin/sh\nfor t in a b c; do echo \"test $t passed\"; done\necho 3 passed > results.txt\n", Ct);
        var lines = new ConcurrentQueue<OutputLine>();
        var result = await Orchestrator().RunTestsAsync(
            new TestRunRequest(output) { Command = new CommandRequest("/bin/sh") { Arguments = ["run-tests.sh"] } },
            OutputSink.FromCallback(lines.Enqueue), Ct);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["test a passed", "test b passed", "test c passed"], lines.Select(l => l.Text));
        Assert.Equal("3 passed\n", await File.ReadAllTextAsync(Path.Combine(output, "results.txt"), Ct));
        await AssertGoneAsync(result.SandboxName);
    }

    [Fact]
    public async Task Run_tests_with_dotnet_test_on_an_image_without_dotnet_says_so()
    {
        VmEnvironment.RequireVm();
        var name = VmEnvironment.UniqueName("orch-nodn");
        var output = Directory.CreateTempSubdirectory("msbo-out-").FullName;
        var e = await Assert.ThrowsAsync<MicrosandboxException>(() => Orchestrator().RunTestsAsync(
            new TestRunRequest(output) { Sandbox = new SandboxRequest { Name = name }, TestTarget = "Tests.dll" }, OutputSink.None, Ct));
        Assert.Contains("'dotnet' is not in the image", e.Message, StringComparison.Ordinal);
        Assert.Contains("needs an image that contains .NET", e.Message, StringComparison.Ordinal);
        await AssertGoneAsync(name);
    }

    [Fact]
    public async Task Prepare_accepts_the_builtin_image_when_the_engine_is_installed()
    {
        VmEnvironment.RequireVm();
        var prepared = await Orchestrator().PrepareImagesAsync([null], Ct);
        Assert.Equal(BuiltinImages.BusyboxDisk, Assert.Single(prepared).Location);
    }

    private static async Task AssertGoneAsync(string name)
    {
        Assert.Empty(LifecycleTests.QemuProcessesFor(name));
        await using var store = await StateStore.OpenAsync(VmEnvironment.Home, Ct);
        Assert.Null(await store.GetSandboxAsync(name, Ct));
    }
}
