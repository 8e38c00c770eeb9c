using System.Diagnostics;
using Microsandbox.Host;
using Microsandbox.State;

namespace Microsandbox.Tests.Vm;

public sealed class LifecycleTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SandboxBuilder Busybox(string prefix) =>
        new SandboxBuilder(VmEnvironment.UniqueName(prefix)).Image(BuiltinImages.Busybox);

    [Fact]
    public async Task Four_sandboxes_boot_and_run_in_parallel()
    {
        VmEnvironment.RequireVm();
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(async i =>
        {
            await using var sb = await Sandbox.CreateAsync(Busybox($"par{i}").Ephemeral().Env("INDEX", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), VmEnvironment.Options(output), Ct);
            return (await sb.ShellAsync("echo $INDEX", Ct)).Stdout.Trim();
        }));
        Assert.Equal(["0", "1", "2", "3"], results);
    }

    [Fact]
    public async Task Max_duration_ends_the_vm_and_records_the_reason()
    {
        VmEnvironment.RequireVm();
        var sb = await Sandbox.CreateAsync(Busybox("maxdur").MaxDuration(3), VmEnvironment.Options(output), Ct);
        try
        {
            await sb.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
            var run = await LastRunAsync(sb.Id);
            Assert.Equal(TerminationReason.MaxDurationExceeded, run.TerminationReason);
            Assert.Equal(RunStatus.Terminated, run.Status);
            Assert.Equal(SandboxStatus.Stopped, (await SandboxRowAsync(sb.Name))!.Status);
        }
        finally
        {
            await sb.RemoveAsync(Ct);
        }
    }

    [Fact]
    public async Task Idle_timeout_ends_a_quiet_vm_and_records_the_reason()
    {
        VmEnvironment.RequireVm();
        var sb = await Sandbox.CreateAsync(Busybox("idle").IdleTimeout(3), VmEnvironment.Options(output), Ct);
        try
        {
            Assert.Equal("awake\n", (await sb.ExecAsync("echo", ["awake"], Ct)).Stdout);
            await sb.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
            var run = await LastRunAsync(sb.Id);
            Assert.Equal(TerminationReason.IdleTimeout, run.TerminationReason);
        }
        finally
        {
            await sb.RemoveAsync(Ct);
        }
    }

    [Fact]
    public async Task Stop_and_remove_are_idempotent_and_leave_nothing()
    {
        VmEnvironment.RequireVm();
        var sb = await Sandbox.CreateAsync(Busybox("idem"), VmEnvironment.Options(output), Ct);
        var name = sb.Name;
        await sb.StopAsync(Ct);
        await sb.StopAsync(Ct);
        Assert.False(sb.IsRunning);
        Assert.Equal(SandboxStatus.Stopped, (await SandboxRowAsync(name))!.Status);
        await sb.RemoveAsync(Ct);
        await sb.RemoveAsync(Ct);
        await sb.DisposeAsync();
        Assert.Null(await SandboxRowAsync(name));
        Assert.False(Directory.Exists(new MicrosandboxHome(VmEnvironment.Home).SandboxDirectory(name)));
        Assert.Empty(QemuProcessesFor(name));
    }

    [Fact]
    public async Task Killing_the_creating_process_takes_its_ephemeral_vm_down()
    {
        VmEnvironment.RequireVm();
        var name = VmEnvironment.UniqueName("orphan");
        var cli = Path.Combine(AppContext.BaseDirectory, "Microsandbox.Cli.dll");
        var psi = new ProcessStartInfo(Runtime.SandboxProcessLocator.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { cli, "run", "--name", name, "--", "sh", "-c", "echo up; sleep 120" }) psi.ArgumentList.Add(a);
        psi.Environment["MSB_HOME"] = VmEnvironment.Home;
        using var creator = Process.Start(psi)!;
        var firstLine = await creator.StandardOutput.ReadLineAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(90), Ct);
        Assert.Equal("up", firstLine);
        Assert.NotEmpty(QemuProcessesFor(name));

        creator.Kill(); // SIGKILL: no chance to clean up; the sandbox process's watchdog must.
        // The sandbox process removes the row, then exits, which releases its lifecycle lock: all three within 5 s.
        var home = new MicrosandboxHome(VmEnvironment.Home);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline
               && (QemuProcessesFor(name).Count > 0 || await SandboxRowAsync(name) is not null || Microsandbox.Spawn.LifecycleLock.IsHeld(home, name)))
            await Task.Delay(100, Ct);
        Assert.Empty(QemuProcessesFor(name));
        Assert.Null(await SandboxRowAsync(name)); // ephemeral: its rows are gone, not left Running
        Assert.False(Microsandbox.Spawn.LifecycleLock.IsHeld(home, name));
    }

    private static async Task<RunRecord> LastRunAsync(long sandboxId)
    {
        await using var store = await StateStore.OpenAsync(VmEnvironment.Home, Ct);
        return (await store.ListRunsAsync(sandboxId, Ct)).OrderBy(r => r.Id).Last();
    }

    private static async Task<SandboxRecord?> SandboxRowAsync(string name)
    {
        await using var store = await StateStore.OpenAsync(VmEnvironment.Home, Ct);
        return await store.GetSandboxAsync(name, Ct);
    }

    /// <summary>QEMU processes whose command line names this sandbox's socket directory.</summary>
    internal static List<int> QemuProcessesFor(string name)
    {
        var marker = Path.GetDirectoryName(new MicrosandboxHome(VmEnvironment.Home).AgentSocketPath(name))!;
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains("qemu-system", StringComparison.Ordinal) && cmdline.Contains(marker, StringComparison.Ordinal)) pids.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return pids;
    }
}

public sealed class GracefulStopTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Stop_lets_the_guest_power_off_by_itself()
    {
        VmEnvironment.RequireVm();
        var ct = TestContext.Current.CancellationToken;
        var sb = await Sandbox.CreateAsync(new SandboxBuilder(VmEnvironment.UniqueName("graceful")).Image(BuiltinImages.Busybox), VmEnvironment.Options(output), ct);
        try
        {
            await sb.StopAsync(ct);
            var log = await File.ReadAllTextAsync(Path.Combine(sb.LogDirectory, "runtime.log"), ct);
            output.WriteLine(log);
            output.WriteLine(await File.ReadAllTextAsync(Path.Combine(sb.LogDirectory, "console.log"), ct));
            Assert.DoesNotContain("killing QEMU", log);
            Assert.Contains("VM exited with code 0", log);
        }
        finally
        {
            await sb.RemoveAsync(ct);
        }
    }
}
