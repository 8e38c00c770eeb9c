using System.Diagnostics;
using Microsandbox.Host;
using Microsandbox.State;

namespace Microsandbox.Tests.Vm;

/// <summary>
/// What a caller sees when the VM underneath it dies: QEMU killed, the sandbox process killed, a guest kernel panic,
/// a full disk in the guest, two creates racing for one name. Each ends in an error that says what happened and
/// leaves nothing running.
/// </summary>
public sealed class FaultTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SandboxBuilder Builder(string prefix) =>
        new SandboxBuilder(VmEnvironment.UniqueName(prefix)).Image(BuiltinImages.Busybox).Ephemeral();

    [Fact]
    public async Task Qemu_killed_mid_exec_fails_the_exec_saying_the_vm_died()
    {
        VmEnvironment.RequireVm();
        await using var sb = await Sandbox.CreateAsync(Builder("qkill"), VmEnvironment.Options(output), Ct);
        var qemu = Assert.Single(LifecycleTests.QemuProcessesFor(sb.Name));

        var (error, elapsed) = await KillDuringExecAsync(sb, () => Process.GetProcessById(qemu).Kill());
        output.WriteLine($"exec failed {elapsed.TotalMilliseconds:0} ms after QEMU was killed: {error.Message}");
        Assert.Contains($"sandbox {sb.Name}: exec 'sleep' failed because the VM ended", error.Message, StringComparison.Ordinal);
        Assert.Contains("QEMU was killed by signal 9 (SIGKILL)", error.Message, StringComparison.Ordinal);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"the exec took {elapsed} to fail");
        await AssertNothingRunningAsync(sb);
    }

    [Fact]
    public async Task The_sandbox_process_killed_mid_exec_fails_the_exec_and_takes_qemu_with_it()
    {
        VmEnvironment.RequireVm();
        await using var sb = await Sandbox.CreateAsync(Builder("pkill"), VmEnvironment.Options(output), Ct);

        var (error, elapsed) = await KillDuringExecAsync(sb, () => Process.GetProcessById(sb.ProcessId).Kill());
        output.WriteLine($"exec failed {elapsed.TotalMilliseconds:0} ms after the sandbox process was killed: {error.Message}");
        Assert.Contains("the sandbox process was killed by signal 9 (SIGKILL)", error.Message, StringComparison.Ordinal);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"the exec took {elapsed} to fail");
        await AssertNothingRunningAsync(sb);
    }

    [Fact]
    public async Task A_guest_kernel_panic_puts_the_panic_line_in_the_error()
    {
        VmEnvironment.RequireVm();
        await using var sb = await Sandbox.CreateAsync(Builder("panic"), VmEnvironment.Options(output), Ct);

        var error = await Assert.ThrowsAsync<AgentConnectionException>(() => sb.ShellAsync("echo c > /proc/sysrq-trigger; sleep 30", Ct));
        output.WriteLine(error.Message);
        Assert.Contains("the guest kernel panicked: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("Kernel panic - not syncing", error.Message, StringComparison.Ordinal);
        await AssertNothingRunningAsync(sb);
    }

    [Fact]
    public async Task A_full_guest_filesystem_is_enospc_for_the_command_and_nothing_for_the_host()
    {
        VmEnvironment.RequireVm();
        await using var sb = await Sandbox.CreateAsync(Builder("full").Volume("/scratch", m => m.Tmpfs().Size(8u)), VmEnvironment.Options(output), Ct);

        var fill = await sb.ShellAsync("dd if=/dev/zero of=/scratch/fill bs=1M count=64", Ct);
        output.WriteLine(fill.Stderr);
        Assert.NotEqual(0, fill.ExitCode);
        Assert.Contains("No space left on device", fill.Stderr, StringComparison.Ordinal);
        // The sandbox goes on, and so does the host side of it.
        Assert.Equal("still here\n", (await sb.ShellAsync("rm /scratch/fill; echo still here", Ct)).Stdout);
    }

    [Fact]
    public async Task Two_creates_of_one_name_at_once_let_exactly_one_win()
    {
        VmEnvironment.RequireVm();
        var builder = Builder("race");
        var attempts = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            try { return (Sandbox: await Sandbox.CreateAsync(builder, VmEnvironment.Options(output), Ct), Error: (Exception?)null); }
            catch (MicrosandboxException e) { return (Sandbox: (Sandbox?)null, Error: (Exception?)e); }
        }, Ct)));
        try
        {
            Assert.Single(attempts, a => a.Sandbox is not null);
            var loser = Assert.Single(attempts, a => a.Error is not null).Error!;
            output.WriteLine(loser.Message);
            Assert.Matches("a sandbox named '.*' (is already running|already exists)", loser.Message);
        }
        finally
        {
            foreach (var (sandbox, _) in attempts)
                if (sandbox is not null) await sandbox.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_processes_creating_one_name_at_once_let_exactly_one_win()
    {
        VmEnvironment.RequireVm();
        var name = VmEnvironment.UniqueName("race2");
        var cli = Path.Combine(AppContext.BaseDirectory, "Microsandbox.Cli.dll");
        var runs = await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            var psi = new ProcessStartInfo(Runtime.SandboxProcessLocator.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { cli, "run", "--name", name, "--", "sh", "-c", "sleep 3; echo done" }) psi.ArgumentList.Add(a);
            psi.Environment["MSB_HOME"] = VmEnvironment.Home;
            using var process = Process.Start(psi)!;
            var stdout = process.StandardOutput.ReadToEndAsync(Ct);
            var stderr = process.StandardError.ReadToEndAsync(Ct);
            await process.WaitForExitAsync(Ct);
            return (Code: process.ExitCode, Stdout: await stdout, Stderr: await stderr);
        }));
        foreach (var run in runs) output.WriteLine($"exit {run.Code}: {run.Stdout.Trim()} {run.Stderr.Trim()}");
        var winner = Assert.Single(runs, r => r.Code == 0);
        Assert.Equal("done\n", winner.Stdout);
        var loser = Assert.Single(runs, r => r.Code != 0);
        Assert.Matches($"a sandbox named '{name}' (is already running|already exists)", loser.Stderr);
        Assert.Empty(LifecycleTests.QemuProcessesFor(name));
    }

    private static async Task<(AgentConnectionException Error, TimeSpan Elapsed)> KillDuringExecAsync(Sandbox sb, Action kill)
    {
        var events = sb.ExecEventsAsync(new ExecCommand("sleep") { Arguments = ["60"] }, Ct).GetAsyncEnumerator(Ct);
        await using (events)
        {
            Assert.True(await events.MoveNextAsync()); // started: the command is running in the guest
            var clock = Stopwatch.StartNew();
            kill();
            var error = await Assert.ThrowsAsync<AgentConnectionException>(async () =>
            {
                while (await events.MoveNextAsync()) { }
            });
            return (error, clock.Elapsed);
        }
    }

    // No QEMU, no sandbox process, and no row or run left Running (the ephemeral sandbox's row is gone, or ended).
    private static async Task AssertNothingRunningAsync(Sandbox sb)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline && (LifecycleTests.QemuProcessesFor(sb.Name).Count > 0 || sb.IsRunning))
            await Task.Delay(100, Ct);
        Assert.Empty(LifecycleTests.QemuProcessesFor(sb.Name));
        Assert.False(sb.IsRunning);
        await using var store = await StateStore.OpenAsync(VmEnvironment.Home, Ct);
        await store.SweepStaleAsync(Ct); // what any later command does first (msb ls too): a dead process's rows end
        if (await store.GetSandboxAsync(sb.Name, Ct) is { } row)
        {
            Assert.NotEqual(SandboxStatus.Running, row.Status);
            Assert.All(await store.ListRunsAsync(row.Id, Ct), run => Assert.Equal(RunStatus.Terminated, run.Status));
        }
    }
}
