using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsandbox.Host;
using Microsandbox.State;
using Microsandbox.Tests.MSBuild;
using Microsandbox.Tests.Vm;
using Microsandbox.Xunit;
using Microsoft.Extensions.DependencyInjection;

namespace Microsandbox.Tests.Xunit;

/// <summary>
/// Kills a child `dotnet test` of tests/Microsandbox.Xunit.Sample with SIGKILL while its sandboxes run (an assembly
/// fixture, a per-test sandbox and a pre-booted one), then proves the watchdog left no VM and no Running row, and that
/// the next run's sweep removes stale rows of an earlier crashed run.
/// </summary>
public sealed class TestHostCrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_the_test_host_mid_run_leaves_no_vm_and_no_running_row()
    {
        VmEnvironment.RequireVm();
        var ct = TestContext.Current.CancellationToken;
        var (project, configuration) = SampleProject();
        var home = Directory.CreateTempSubdirectory("msbk-").FullName;
        var marker = Path.Combine(home, "crash-marker.json");
        var log = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var child = new Process
        {
            StartInfo = Dotnet.StartInfo(Path.GetDirectoryName(project)!,
                ["test", project, "--no-build", "-c", configuration, "--filter", "FullyQualifiedName~CrashProbeTests", "--logger", "console;verbosity=normal"],
                new Dictionary<string, string> { ["MSB_HOME"] = home, ["MSB_XUNIT_CRASH_MARKER"] = marker, ["MSBUILDDISABLENODEREUSE"] = "1" }),
        };
        child.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        child.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        try
        {
            child.Start();
            child.BeginOutputReadLine();
            child.BeginErrorReadLine();

            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
            while (!File.Exists(marker))
            {
                if (child.HasExited) Assert.Fail($"the sample run ended (code {child.ExitCode}) before its sandboxes were up:\n{Snapshot(log)}");
                if (DateTime.UtcNow > deadline) Assert.Fail($"the sample's sandboxes were not up within 5 minutes:\n{Snapshot(log)}");
                await Task.Delay(200, ct);
            }
            using var state = JsonDocument.Parse(await File.ReadAllTextAsync(marker, ct));
            int hostPid = state.RootElement.GetProperty("pid").GetInt32();
            var names = state.RootElement.GetProperty("sandboxes").EnumerateArray().Select(e => e.GetString()!).ToList();

            // Before the kill: the sandboxes are really running (rows Running, QEMU processes of this home alive).
            await using (var store = await StateStore.OpenAsync(home, ct))
            {
                foreach (var name in names)
                    Assert.Equal(SandboxStatus.Running, (await store.GetSandboxAsync(name, ct))?.Status);
                var running = (await store.ListSandboxesAsync(cancellationToken: ct)).Where(r => r.Status == SandboxStatus.Running).ToList();
                output.WriteLine($"running before the kill: {string.Join(", ", running.Select(r => r.Name))}");
                Assert.True(running.Count >= 2);
            }
            var qemuBefore = Qemu(home);
            Assert.True(qemuBefore.Count >= 2, $"expected the sample's QEMU processes, found {qemuBefore.Count}");

            Assert.Equal(0, Libc.kill(hostPid, Libc.SIGKILL));
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: SIGKILL sent to test host {hostPid}");

            // The sandbox processes notice their creator's death through the watchdog pipe and shut their VMs down,
            // whatever the runner above the killed host does meanwhile.
            var settle = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            var sandboxProcesses = SandboxProcesses(home);
            while (sandboxProcesses.Count > 0 && DateTime.UtcNow < settle)
            {
                await Task.Delay(200, ct);
                sandboxProcesses = SandboxProcesses(home);
            }
            Assert.True(sandboxProcesses.Count == 0, "sandbox processes or VMs left running: " + string.Join("; ", sandboxProcesses.Select(p => $"{p.Pid}: {p.CommandLine}")));
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: no sandbox process or QEMU of this home is left");

            // The runner (dotnet test, vstest) is not ours to wait for; once it is gone, nothing of this home may remain.
            if (!child.WaitForExit(TimeSpan.FromSeconds(10))) child.Kill(entireProcessTree: true);
            var left = await LeftoverProcesses.AfterSettlingAsync(home, ct);
            Assert.True(left.Count == 0, "processes left running: " + string.Join("; ", left.Select(p => $"{p.Pid}: {p.CommandLine}")));

            await using (var store = await StateStore.OpenAsync(home, ct))
            {
                var rows = await store.ListSandboxesAsync(cancellationToken: ct);
                output.WriteLine($"rows after the kill: {string.Join(", ", rows.Select(r => $"{r.Name}={r.Status}"))}");
                Assert.DoesNotContain(rows, r => r.Status == SandboxStatus.Running);
                foreach (var row in rows) Assert.Null(await store.GetActiveRunAsync(row.Id, ct));
            }
        }
        finally
        {
            if (!child.HasExited) child.Kill(entireProcessTree: true);
            output.WriteLine(Snapshot(log));
            try { Directory.Delete(home, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task The_next_run_sweeps_rows_a_crashed_run_left_running()
    {
        var ct = TestContext.Current.CancellationToken;
        var home = Directory.CreateTempSubdirectory("msbs-").FullName;
        try
        {
            int deadPid;
            using (var gone = Process.Start(new ProcessStartInfo("true")) ?? throw new InvalidOperationException("could not start `true`"))
            {
                await gone.WaitForExitAsync(ct);
                deadPid = gone.Id;
            }
            var provider = MicrosandboxServices.BuildProvider(s => s.AddMicrosandbox(o =>
            {
                o.HomeDirectory = home;
                o.NamePrefix = "swept";
            }));
            var factory = provider.GetRequiredService<SandboxFactory>();
            await using (var store = await StateStore.OpenAsync(home, ct))
            {
                // An earlier run (another run id) crashed: its row says Running and its run's process is dead.
                var row = await store.InsertSandboxAsync("swept-0dead-1", "{}", SandboxStatus.Running, ct);
                await store.InsertRunAsync(row.Id, deadPid, ct);
                // Another tool's sandbox in the same home is not this assembly's to delete.
                var other = await store.InsertSandboxAsync("someone-else", "{}", SandboxStatus.Running, ct);
                await store.InsertRunAsync(other.Id, deadPid, ct);
                // A parallel run of the same suite (same prefix, other run id) whose process is alive keeps its row.
                var parallel = await store.InsertSandboxAsync("swept-1a1a-1", "{}", SandboxStatus.Running, ct);
                await store.InsertRunAsync(parallel.Id, Environment.ProcessId, ct);
            }

            await factory.SweepAsync();

            await using (var store = await StateStore.OpenAsync(home, ct))
            {
                Assert.Null(await store.GetSandboxAsync("swept-0dead-1", ct));
                Assert.Equal(SandboxStatus.Crashed, (await store.GetSandboxAsync("someone-else", ct))?.Status);
                Assert.Equal(SandboxStatus.Running, (await store.GetSandboxAsync("swept-1a1a-1", ct))?.Status);
            }
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static List<(int Pid, string CommandLine)> SandboxProcesses(string home) =>
        LeftoverProcesses.WithHome(home).Where(p => p.CommandLine.Contains("Microsandbox.Cli.dll", StringComparison.Ordinal)).Concat(Qemu(home))
            .DistinctBy(p => p.Pid).ToList();

    private static List<(int Pid, string CommandLine)> Qemu(string home) =>
        LeftoverProcesses.WithHome(home).Where(p => p.CommandLine.Contains("qemu-system", StringComparison.Ordinal)).ToList()
            .Concat(QemuByPath(home)).DistinctBy(p => p.Pid).ToList();

    // QEMU may not inherit the environment; its argv names sockets under the home.
    private static IEnumerable<(int Pid, string CommandLine)> QemuByPath(string home)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string cmdline;
            try
            {
                cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            if (cmdline.Contains("qemu-system", StringComparison.Ordinal) && cmdline.Contains(home, StringComparison.Ordinal)) yield return (pid, cmdline.Trim());
        }
    }

    private static string Snapshot(StringBuilder log)
    {
        lock (log) return log.ToString();
    }

    // tests/Microsandbox.Xunit.Sample, built in the same configuration as this assembly (a build dependency).
    private static (string Project, string Configuration) SampleProject()
    {
        // .../tests/Microsandbox.Tests/bin/<Configuration>/net10.0/
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Debug";
        var root = RepositoryRoot.Find();
        var project = Path.Combine(root, "tests", "Microsandbox.Xunit.Sample", "Microsandbox.Xunit.Sample.csproj");
        var built = Path.Combine(root, "tests", "Microsandbox.Xunit.Sample", "bin", configuration, "net10.0", "Microsandbox.Xunit.Sample.dll");
        Assert.True(File.Exists(built), $"the sample is not built at {built} (it is a build dependency of Microsandbox.Tests)");
        return (project, configuration);
    }
}
