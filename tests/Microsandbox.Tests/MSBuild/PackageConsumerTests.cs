using System.Collections.Concurrent;
using System.Diagnostics;
using Microsandbox.Host;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.MSBuild;

/// <summary>
/// End to end: the packed Microsandbox.MSBuild package, restored from a local feed by a consumer project that only
/// adds a PackageReference, used by real <c>dotnet build</c> runs whose targets boot VMs.
/// </summary>
[Collection(ConsumerCollection.Name)]
public sealed class PackageConsumerTests(ConsumerFixture consumer, ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan BuildLimit = TimeSpan.FromMinutes(4);

    [Fact]
    public void Package_carries_tasks_build_logic_sandbox_process_and_native_sqlite()
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(consumer.PackagePath);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        foreach (var required in new[]
        {
            "build/Microsandbox.MSBuild.props", "build/Microsandbox.MSBuild.targets",
            "tasks/net10.0/Microsandbox.MSBuild.dll", "tasks/net10.0/Microsandbox.dll",
            "tasks/net10.0/Microsandbox.Cli.dll", "tasks/net10.0/Microsandbox.Cli.runtimeconfig.json", "tasks/net10.0/Microsandbox.Cli.deps.json",
            "tasks/net10.0/Microsoft.Data.Sqlite.dll", "tasks/net10.0/runtimes/linux-x64/native/libe_sqlite3.so",
        })
            Assert.Contains(required, entries);
        // MSBuild's own assemblies come from the running MSBuild; shipping them would shadow it.
        Assert.DoesNotContain(entries, e => e.Contains("Microsoft.Build.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_target_boots_a_vm_streams_output_and_sets_outputs()
    {
        VmEnvironment.RequireVm();
        var marker = Marker();
        var (code, log, home) = await BuildAsync("Smoke", [$"Marker={marker}"]);
        Assert.True(code == 0, $"build failed ({code}):\n{log}");
        // Default (minimal) verbosity shows guest output: it is logged at high importance.
        Assert.Contains($"guest-says {marker}", log, StringComparison.Ordinal);
        Assert.Contains($"env-is-{marker}", log, StringComparison.Ordinal);
        Assert.Contains($"host-file-{marker}", log, StringComparison.Ordinal);
        Assert.Contains("to-stderr", log, StringComparison.Ordinal);
        Assert.Contains($"exit=0 stdout=[guest-says {marker}", log, StringComparison.Ordinal);
        Assert.Empty(await LeftoverProcesses.AfterSettlingAsync(home, Ct));
    }

    [Fact]
    public async Task Run_task_also_works_isolated_in_a_task_host_process()
    {
        VmEnvironment.RequireVm();
        var marker = Marker();
        var (code, log, home) = await BuildAsync("TaskHost", [$"Marker={marker}", "MicrosandboxRunInTaskHost=true"], "-v:d");
        Assert.True(code == 0, $"build failed ({code}):\n{log}");
        Assert.Contains($"in-task-host-{marker}", log, StringComparison.Ordinal);
        Assert.Contains("Launching task \"MicrosandboxRun\" from assembly", log, StringComparison.Ordinal);
        Assert.Contains("in an external task host", log, StringComparison.Ordinal);
        Assert.Empty(await LeftoverProcesses.AfterSettlingAsync(home, Ct));
    }

    [Fact]
    public async Task Bad_task_input_fails_before_booting_with_messages_naming_the_field()
    {
        var (code, log, home) = await BuildAsync("BadInput", []);
        Assert.NotEqual(0, code);
        foreach (var expected in new[]
        {
            "warning MSBX005: MicrosandboxRun: mount 'no-colon': expected HOST:GUEST or HOST:GUEST:ro",
            "warning MSBX005: MicrosandboxRun: exactly one of Command and Script must be set",
            "warning MSBX005: MicrosandboxRun: Timeout must be 0 (none) or a positive number of seconds, got -1",
            "warning MSBX005: MicrosandboxRun: StandardOutputImportance must be High, Normal or Low, got 'loud'",
            "warning MSBX005: MicrosandboxRun: Env item 'NOEQUALS': expected NAME=VALUE",
            "warning MSBX005: MicrosandboxRun: Engine must be auto, qemu or krun, got 'bogus'",
            "error MSBX005: MicrosandboxExec: SandboxName: no sandbox named 'nope' was started in this build",
        })
            Assert.Contains(expected, log, StringComparison.Ordinal);
        Assert.Empty(await LeftoverProcesses.AfterSettlingAsync(home, Ct));
    }

    [Fact]
    public async Task Failing_command_fails_the_build_with_its_exit_code()
    {
        VmEnvironment.RequireVm();
        var marker = Marker();
        var (code, log, home) = await BuildAsync("Fail", [$"Marker={marker}"]);
        Assert.NotEqual(0, code);
        Assert.Contains($"about-to-fail-{marker}", log, StringComparison.Ordinal);
        Assert.Contains("error MSBX001", log, StringComparison.Ordinal);
        Assert.Contains("exited with code 7", log, StringComparison.Ordinal);
        Assert.DoesNotContain("not reached", log, StringComparison.Ordinal);
        Assert.Empty(await LeftoverProcesses.AfterSettlingAsync(home, Ct));
    }

    [Fact]
    public async Task Start_exec_stop_share_one_sandbox_across_targets()
    {
        VmEnvironment.RequireVm();
        var marker = Marker();
        var name = "msbuild-" + marker;
        var (code, log, home) = await BuildAsync("Multi", [$"Marker={marker}", $"SandboxName={name}"]);
        Assert.True(code == 0, $"build failed ({code}):\n{log}");
        // State written by one exec is read by the next: the same VM.
        Assert.Contains($"state=[state-{marker}", log, StringComparison.Ordinal);
        // ContinueOnError turns the non-zero exit into a warning and keeps the code.
        Assert.Contains("ignored=3", log, StringComparison.Ordinal);
        Assert.Contains("warning MSBX001", log, StringComparison.Ordinal);
        // Exec after Stop names the problem.
        Assert.Contains($"no sandbox named '{name}' was started in this build", log, StringComparison.Ordinal);
        Assert.Empty(await LeftoverProcesses.AfterSettlingAsync(home, Ct));
    }

    [Fact]
    public async Task A_build_failing_before_stop_still_stops_the_sandbox()
    {
        VmEnvironment.RequireVm();
        var marker = Marker();
        var (code, log, home) = await BuildAsync("MultiFail", [$"Marker={marker}", $"SandboxName=msbuild-{marker}"]);
        Assert.NotEqual(0, code);
        Assert.Contains($"state=[state-{marker}", log, StringComparison.Ordinal);
        Assert.Contains("deliberate failure before MicrosandboxStop", log, StringComparison.Ordinal);
        Assert.Empty(await LeftoverProcesses.AfterSettlingAsync(home, Ct));
    }

    [Fact]
    public async Task Ctrl_c_during_a_guest_command_stops_the_sandbox_and_leaves_no_qemu()
    {
        VmEnvironment.RequireVm();
        var marker = Marker();
        var home = NewHome();
        var lines = new ConcurrentQueue<string>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var build = consumer.StartBuild("Long", home, [$"Marker={marker}"], (_, e) =>
        {
            if (e.Data is null) return;
            lines.Enqueue(e.Data);
            if (e.Data.Contains($"guest-ready-{marker}", StringComparison.Ordinal)) ready.TrySetResult();
        });
        try
        {
            var exited = build.WaitForExitAsync(Ct);
            if (await Task.WhenAny(ready.Task, exited, Task.Delay(BuildLimit, Ct)) != ready.Task)
                Assert.Fail("the guest command never reported ready:\n" + string.Join('\n', lines));

            var qemu = LeftoverProcesses.WithHome(home).Where(p => p.CommandLine.Contains("qemu-system", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(qemu); // the VM is really running now, so its absence later means something

            Assert.Equal(0, Libc.kill(build.Id, Libc.SIGINT));
            if (await Task.WhenAny(exited, Task.Delay(BuildLimit, Ct)) != exited)
                Assert.Fail("dotnet build did not end after SIGINT:\n" + string.Join('\n', lines));
            await exited;
        }
        finally
        {
            if (!build.HasExited) build.Kill(entireProcessTree: true);
        }
        var log = string.Join('\n', lines);
        output.WriteLine(log);
        Assert.NotEqual(0, build.ExitCode);
        // MSBuild called ICancelableTask.Cancel and the task tore its sandbox down itself (not only the process exit).
        Assert.Contains("error MSBX006", log, StringComparison.Ordinal);
        Assert.Empty(await LeftoverProcesses.AfterSettlingAsync(home, Ct));
    }

    private async Task<(int Code, string Log, string Home)> BuildAsync(string target, IEnumerable<string> properties, params string[] switches)
    {
        var home = NewHome();
        var lines = new ConcurrentQueue<string>();
        using var build = consumer.StartBuild(target, home, properties, (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); }, switches);
        try
        {
            var exited = build.WaitForExitAsync(Ct);
            if (await Task.WhenAny(exited, Task.Delay(BuildLimit, Ct)) != exited)
                Assert.Fail($"dotnet build -t:{target} did not finish within {BuildLimit}:\n" + string.Join('\n', lines));
            await exited;
        }
        finally
        {
            if (!build.HasExited) build.Kill(entireProcessTree: true);
        }
        var log = string.Join('\n', lines);
        output.WriteLine(log);
        return (build.ExitCode, log, home);
    }

    private string NewHome() => consumer.NewHome();

    private static string Marker() => Guid.NewGuid().ToString("N")[..10];
}

/// <summary>One packed package and consumer for all MSBuild end-to-end tests (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class ConsumerCollection : ICollectionFixture<ConsumerFixture>
{
    public const string Name = "MSBuild package consumer";
}
