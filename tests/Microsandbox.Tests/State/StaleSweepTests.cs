using System.Diagnostics;
using Microsandbox.State;

namespace Microsandbox.Tests.State;

public class StaleSweepTests
{
    private const int DeadPid = 1_000_001;
    private const int LivePid = 1_000_002;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static bool Alive(int pid) => pid == LivePid;

    private static async Task<(SandboxRecord Sandbox, RunRecord? Run)> SeedAsync(StateStore store, string name, SandboxStatus status, int? pid, bool withRun = true)
    {
        var sandbox = await store.InsertSandboxAsync(name, $$"""{"name":"{{name}}"}""", status, Ct);
        await store.SetSandboxActiveConfigAsync(sandbox.Id, "{}", Ct);
        var run = withRun ? await store.InsertRunAsync(sandbox.Id, pid, Ct) : null;
        return (sandbox, run);
    }

    [Fact]
    public async Task Running_sandbox_with_dead_pid_becomes_crashed_and_its_run_terminated()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        var (sandbox, run) = await SeedAsync(store, "dead", SandboxStatus.Running, DeadPid);

        var closed = await store.SweepStaleAsync(Alive, Ct);

        var only = Assert.Single(closed);
        Assert.Equal(new StaleSandbox(sandbox.Id, "dead", SandboxStatus.Running, SandboxStatus.Crashed, run!.Id, DeadPid), only);
        var after = await store.GetSandboxAsync("dead", Ct);
        Assert.Equal(SandboxStatus.Crashed, after!.Status);
        Assert.Null(after.ActiveConfigJson);
        var finished = await store.GetRunAsync(run.Id, Ct);
        Assert.Equal(RunStatus.Terminated, finished!.Status);
        Assert.Equal(TerminationReason.InternalError, finished.TerminationReason);
        Assert.NotNull(finished.TerminatedAt);
        Assert.Null(finished.ExitCode);

        // A second sweep has nothing left to do.
        Assert.Empty(await store.SweepStaleAsync(Alive, Ct));
    }

    [Fact]
    public async Task Draining_sandbox_with_dead_pid_becomes_stopped_as_shutdown_requested()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        var (_, run) = await SeedAsync(store, "draining", SandboxStatus.Draining, DeadPid);

        var closed = Assert.Single(await store.SweepStaleAsync(Alive, Ct));

        Assert.Equal(SandboxStatus.Stopped, closed.NewStatus);
        Assert.Equal(SandboxStatus.Stopped, (await store.GetSandboxAsync("draining", Ct))!.Status);
        Assert.Equal(TerminationReason.ShutdownRequested, (await store.GetRunAsync(run!.Id, Ct))!.TerminationReason);
    }

    [Fact]
    public async Task Live_starting_and_terminal_sandboxes_are_left_alone()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        await SeedAsync(store, "live", SandboxStatus.Running, LivePid);
        await SeedAsync(store, "starting", SandboxStatus.Running, pid: null, withRun: false);
        await SeedAsync(store, "stopped", SandboxStatus.Stopped, DeadPid);

        Assert.Empty(await store.SweepStaleAsync(Alive, Ct));

        Assert.Equal(SandboxStatus.Running, (await store.GetSandboxAsync("live", Ct))!.Status);
        Assert.Equal(SandboxStatus.Running, (await store.GetSandboxAsync("starting", Ct))!.Status);
        Assert.Equal(SandboxStatus.Stopped, (await store.GetSandboxAsync("stopped", Ct))!.Status);
    }

    [Fact]
    public async Task A_run_left_running_under_a_stopped_sandbox_is_terminated_once_its_process_is_gone()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        // msb aborting where /dev/kvm is missing: its parent marks the sandbox, nobody ends the run.
        var (_, deadRun) = await SeedAsync(store, "aborted", SandboxStatus.Crashed, DeadPid);
        var (_, liveRun) = await SeedAsync(store, "stopping", SandboxStatus.Stopped, LivePid);

        Assert.Empty(await store.SweepStaleAsync(Alive, Ct)); // no sandbox changes status

        var ended = await store.GetRunAsync(deadRun!.Id, Ct);
        Assert.Equal(RunStatus.Terminated, ended!.Status);
        Assert.Equal(TerminationReason.InternalError, ended.TerminationReason);
        Assert.NotNull(ended.TerminatedAt);
        Assert.Equal(SandboxStatus.Crashed, (await store.GetSandboxAsync("aborted", Ct))!.Status);
        // A live process may still be writing its own end: its run is left alone.
        Assert.Equal(RunStatus.Running, (await store.GetRunAsync(liveRun!.Id, Ct))!.Status);
    }

    [Fact]
    public async Task A_running_row_abandoned_before_its_spawn_is_closed_after_the_starting_grace()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        await SeedAsync(store, "abandoned", SandboxStatus.Running, pid: null, withRun: false);
        await SeedAsync(store, "starting", SandboxStatus.Running, pid: null, withRun: false);
        // The launcher of "abandoned" wrote its row long ago and died before spawning (no run, no lock holder).
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={store.DatabasePath}"))
        {
            await connection.OpenAsync(Ct);
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE sandbox SET updated_at = $old WHERE name = 'abandoned'";
            command.Parameters.AddWithValue("$old", MsbTimestamp.Format(DateTime.UtcNow - StateStore.StartingGrace - TimeSpan.FromMinutes(1)));
            await command.ExecuteNonQueryAsync(Ct);
        }

        var closed = await store.SweepStaleAsync(Alive, Ct);

        Assert.Equal(["abandoned"], closed.Select(c => c.Name));
        Assert.Equal(SandboxStatus.Crashed, (await store.GetSandboxAsync("abandoned", Ct))!.Status);
        Assert.Equal(SandboxStatus.Running, (await store.GetSandboxAsync("starting", Ct))!.Status);
    }

    [Fact]
    public async Task Draining_sandbox_without_a_run_is_closed_and_a_run_without_pid_counts_as_dead()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        await SeedAsync(store, "drained", SandboxStatus.Draining, pid: null, withRun: false);
        await SeedAsync(store, "nopid", SandboxStatus.Running, pid: null);

        var closed = await store.SweepStaleAsync(Alive, Ct);

        Assert.Equal(["drained", "nopid"], closed.Select(c => c.Name).Order());
        Assert.Null(closed.Single(c => c.Name == "drained").RunId);
        Assert.Equal(SandboxStatus.Stopped, (await store.GetSandboxAsync("drained", Ct))!.Status);
        Assert.Equal(SandboxStatus.Crashed, (await store.GetSandboxAsync("nopid", Ct))!.Status);
    }

    [Fact]
    public async Task Sandbox_whose_lifecycle_lock_is_held_is_skipped_until_released()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        await SeedAsync(store, "owned", SandboxStatus.Running, DeadPid);
        var lockPath = store.LifecycleLockPath("owned");
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);

        using (await FileLock.AcquireAsync(lockPath, Ct))
        {
            Assert.Empty(await store.SweepStaleAsync(Alive, Ct));
            Assert.Equal(SandboxStatus.Running, (await store.GetSandboxAsync("owned", Ct))!.Status);
        }

        Assert.Single(await store.SweepStaleAsync(Alive, Ct));
    }

    [Fact]
    public async Task Lifecycle_lock_path_is_msbs()
    {
        // Same path msb 0.6.18 created for a sandbox named "x1": run/locks/<first 16 bytes of sha256 as hex>.lock.
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        Assert.Equal(Path.Combine(home.Path, "run", "locks", "ec31682fde561917952ff78a7a8adeff.lock"), store.LifecycleLockPath("x1"));
    }

    [Fact]
    public async Task Real_process_keeps_its_sandbox_running_until_it_dies()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("liveness probe semantics are checked on Linux");
        }

        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        using var process = Process.Start(new ProcessStartInfo("sleep") { ArgumentList = { "300" } })!;
        var (sandbox, _) = await SeedAsync(store, "real", SandboxStatus.Running, process.Id);

        Assert.Empty(await store.SweepStaleAsync(Ct));

        process.Kill();
        await process.WaitForExitAsync(Ct);

        var closed = Assert.Single(await store.SweepStaleAsync(Ct));
        Assert.Equal(sandbox.Id, closed.SandboxId);
        Assert.Equal(SandboxStatus.Crashed, (await store.GetSandboxAsync("real", Ct))!.Status);
    }
}
