using System.Text.RegularExpressions;
using Microsandbox.State;

namespace Microsandbox.Tests.State;

public class StateStoreTests
{
    // chrono's "%F %T%.f" as msb stores it; we always write nine fraction digits.
    private static readonly Regex MsbTime = new(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{9}$");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Config(string name, bool ephemeral = false, string labels = "{}") =>
        $$$"""{"name":"{{{name}}}","labels":{{{labels}}},"lifecycle":{"ephemeral":{{{(ephemeral ? "true" : "false")}}},"max_duration_secs":null,"idle_timeout_secs":null}}""";

    [Fact]
    public async Task Inserted_sandbox_is_stored_as_msb_stores_it()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        var config = Config("box", ephemeral: true, labels: """{"team":"qa","tier":"gold"}""");

        var before = DateTime.UtcNow.AddSeconds(-1);
        var record = await store.InsertSandboxAsync("box", config, cancellationToken: Ct);

        Assert.Equal("box", record.Name);
        Assert.Equal(config, record.ConfigJson);
        Assert.Equal(SandboxStatus.Running, record.Status);
        Assert.True(record.Ephemeral);
        Assert.Null(record.ActiveConfigJson);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "qa", ["tier"] = "gold" }, record.Labels);
        Assert.NotNull(record.CreatedAt);
        Assert.InRange(record.CreatedAt!.Value, before, DateTime.UtcNow.AddSeconds(1));
        Assert.Equal(record.CreatedAt, record.UpdatedAt);

        var raw = SqliteDump.Rows(home.DatabasePath,
            "SELECT status, ephemeral, typeof(ephemeral), created_at, updated_at, typeof(created_at) FROM sandbox WHERE name = 'box'").Single();
        Assert.Equal("Running", raw[0]);
        Assert.Equal("1", raw[1]);
        Assert.Equal("integer", raw[2]);
        Assert.Matches(MsbTime, raw[3]);
        Assert.Equal(raw[3], raw[4]);
        Assert.Equal("text", raw[5]);
        Assert.Equal(
            [["team", "qa"], ["tier", "gold"]],
            SqliteDump.Rows(home.DatabasePath, $"SELECT key, value FROM sandbox_labels WHERE sandbox_id = {record.Id} ORDER BY key"));
    }

    [Fact]
    public async Task Duplicate_name_and_mismatched_config_are_clear_errors()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        await store.InsertSandboxAsync("dup", Config("dup"), cancellationToken: Ct);

        var duplicate = await Assert.ThrowsAsync<MicrosandboxException>(() => store.InsertSandboxAsync("dup", Config("dup"), cancellationToken: Ct));
        Assert.Contains("'dup' already exists", duplicate.Message, StringComparison.Ordinal);

        var mismatch = await Assert.ThrowsAsync<ArgumentException>(() => store.InsertSandboxAsync("other", Config("dup"), cancellationToken: Ct));
        Assert.Equal("configJson", mismatch.ParamName);

        var badLabels = await Assert.ThrowsAsync<ArgumentException>(() =>
            store.InsertSandboxAsync("bad", """{"labels":{"n":1}}""", cancellationToken: Ct));
        Assert.Contains("labels.n must be a string", badLabels.Message, StringComparison.Ordinal);

        await Assert.ThrowsAsync<ArgumentException>(() => store.InsertSandboxAsync("notjson", "not json", cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.InsertSandboxAsync("", "{}", cancellationToken: Ct));

        // A failed insert leaves nothing behind.
        Assert.Single(await store.ListSandboxesAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task List_filters_on_labels_like_msb_ls_label()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        await store.InsertSandboxAsync("b", Config("b", labels: """{"team":"qa"}"""), cancellationToken: Ct);
        await store.InsertSandboxAsync("a", Config("a", labels: """{"team":"qa","tier":"gold"}"""), cancellationToken: Ct);
        await store.InsertSandboxAsync("c", Config("c"), cancellationToken: Ct);

        Assert.Equal(["a", "b", "c"], (await store.ListSandboxesAsync(cancellationToken: Ct)).Select(s => s.Name));
        Assert.Equal(["a", "b"], (await store.ListSandboxesAsync(new Dictionary<string, string> { ["team"] = "qa" }, Ct)).Select(s => s.Name));
        Assert.Equal(["a"], (await store.ListSandboxesAsync(
            new Dictionary<string, string> { ["team"] = "qa", ["tier"] = "gold" }, Ct)).Select(s => s.Name));
        Assert.Empty(await store.ListSandboxesAsync(new Dictionary<string, string> { ["team"] = "QA" }, Ct));
    }

    [Fact]
    public async Task Status_changes_follow_msb_rules_for_active_config()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        var box = await store.InsertSandboxAsync("box", Config("box"), cancellationToken: Ct);

        Assert.True(await store.SetSandboxActiveConfigAsync(box.Id, Config("box"), Ct));
        Assert.True(await store.UpdateSandboxStatusAsync(box.Id, SandboxStatus.Draining, Ct));
        var draining = await store.GetSandboxByIdAsync(box.Id, Ct);
        Assert.Equal(SandboxStatus.Draining, draining!.Status);
        Assert.Equal(Config("box"), draining.ActiveConfigJson);

        Assert.True(await store.UpdateSandboxStatusAsync(box.Id, SandboxStatus.Stopped, Ct));
        var stopped = await store.GetSandboxAsync("box", Ct);
        Assert.Equal(SandboxStatus.Stopped, stopped!.Status);
        Assert.Null(stopped.ActiveConfigJson);
        Assert.True(stopped.UpdatedAt >= stopped.CreatedAt);

        Assert.False(await store.UpdateSandboxStatusAsync(box.Id + 100, SandboxStatus.Stopped, Ct));
    }

    [Fact]
    public async Task Updating_the_config_rewrites_labels_and_ephemeral()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        var box = await store.InsertSandboxAsync("box", Config("box", labels: """{"old":"1"}"""), cancellationToken: Ct);

        Assert.True(await store.UpdateSandboxConfigAsync(box.Id, Config("box", ephemeral: true, labels: """{"new":"2"}"""), Ct));

        var updated = await store.GetSandboxAsync("box", Ct);
        Assert.True(updated!.Ephemeral);
        Assert.Equal(new Dictionary<string, string> { ["new"] = "2" }, updated.Labels);
        Assert.False(await store.UpdateSandboxConfigAsync(box.Id + 100, "{}", Ct));
    }

    [Fact]
    public async Task Deleting_a_sandbox_removes_its_runs_and_labels()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        var box = await store.InsertSandboxAsync("box", Config("box", labels: """{"k":"v"}"""), cancellationToken: Ct);
        await store.InsertRunAsync(box.Id, 4242, Ct);

        Assert.True(await store.DeleteSandboxAsync("box", Ct));
        Assert.False(await store.DeleteSandboxAsync("box", Ct));

        Assert.Null(await store.GetSandboxAsync("box", Ct));
        Assert.Equal("0", SqliteDump.Rows(home.DatabasePath, "SELECT count(*) FROM run")[0][0]);
        Assert.Equal("0", SqliteDump.Rows(home.DatabasePath, "SELECT count(*) FROM sandbox_labels")[0][0]);
    }

    [Fact]
    public async Task Runs_start_running_and_finish_once_with_reason_and_exit_code()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        var box = await store.InsertSandboxAsync("box", Config("box"), cancellationToken: Ct);

        var run = await store.InsertRunAsync(box.Id, 1234, Ct);
        Assert.Equal(RunStatus.Running, run.Status);
        Assert.Equal(1234, run.Pid);
        Assert.NotNull(run.StartedAt);
        Assert.Null(run.TerminatedAt);
        Assert.Equal(run, await store.GetActiveRunAsync(box.Id, Ct));

        Assert.True(await store.FinishRunAsync(run.Id, new RunTermination(TerminationReason.IdleTimeout, ExitCode: 0, Detail: "idle 30 s"), Ct));
        Assert.False(await store.FinishRunAsync(run.Id, RunTermination.FromExitCode(1), Ct));

        var finished = await store.GetRunAsync(run.Id, Ct);
        Assert.Equal(RunStatus.Terminated, finished!.Status);
        Assert.Equal(TerminationReason.IdleTimeout, finished.TerminationReason);
        Assert.Equal(0, finished.ExitCode);
        Assert.Equal("idle 30 s", finished.TerminationDetail);
        Assert.NotNull(finished.TerminatedAt);
        Assert.Null(await store.GetActiveRunAsync(box.Id, Ct));

        var raw = SqliteDump.Rows(home.DatabasePath, $"SELECT status, termination_reason, started_at, terminated_at FROM run WHERE id = {run.Id}").Single();
        Assert.Equal(["Terminated", "IdleTimeout"], raw[..2]);
        Assert.Matches(MsbTime, raw[2]);
        Assert.Matches(MsbTime, raw[3]);

        var missingSandbox = await Assert.ThrowsAsync<MicrosandboxException>(() => store.InsertRunAsync(box.Id + 100, 1, Ct));
        Assert.Contains("no sandbox with id", missingSandbox.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exit_code_maps_to_completed_or_failed()
    {
        Assert.Equal(TerminationReason.Completed, RunTermination.FromExitCode(0).Reason);
        Assert.Equal(TerminationReason.Failed, RunTermination.FromExitCode(3).Reason);
        Assert.Equal(3, RunTermination.FromExitCode(3).ExitCode);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Ending_a_run_stops_the_sandbox_and_self_cleans_ephemeral_ones()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        var keep = await store.InsertSandboxAsync("keep", Config("keep"), cancellationToken: Ct);
        var gone = await store.InsertSandboxAsync("gone", Config("gone", ephemeral: true), cancellationToken: Ct);
        await store.SetSandboxActiveConfigAsync(keep.Id, Config("keep"), Ct);
        var keepRun = await store.InsertRunAsync(keep.Id, 10, Ct);
        var goneRun = await store.InsertRunAsync(gone.Id, 11, Ct);

        Assert.True(await store.EndRunAsync(keepRun.Id, RunTermination.FromExitCode(0), removeIfEphemeral: true, cancellationToken: Ct));
        Assert.True(await store.EndRunAsync(goneRun.Id, new RunTermination(TerminationReason.Signal, ExitSignal: 15), removeIfEphemeral: true, cancellationToken: Ct));
        Assert.False(await store.EndRunAsync(keepRun.Id, RunTermination.FromExitCode(0), cancellationToken: Ct));

        var kept = await store.GetSandboxAsync("keep", Ct);
        Assert.Equal(SandboxStatus.Stopped, kept!.Status);
        Assert.Null(kept.ActiveConfigJson);
        Assert.Equal(TerminationReason.Completed, (await store.GetRunAsync(keepRun.Id, Ct))!.TerminationReason);
        Assert.Null(await store.GetSandboxAsync("gone", Ct));
    }

    [Fact]
    public async Task Ephemeral_cleanup_only_removes_terminal_ephemeral_rows()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        var running = await store.InsertSandboxAsync("running", Config("running", ephemeral: true), cancellationToken: Ct);
        var persistent = await store.InsertSandboxAsync("persistent", Config("persistent"), SandboxStatus.Stopped, Ct);
        var crashed = await store.InsertSandboxAsync("crashed", Config("crashed", ephemeral: true), SandboxStatus.Crashed, Ct);

        Assert.False(await store.DeleteSandboxIfTerminalEphemeralAsync(running.Id, Ct));
        Assert.False(await store.DeleteSandboxIfTerminalEphemeralAsync(persistent.Id, Ct));
        Assert.True(await store.DeleteSandboxIfTerminalEphemeralAsync(crashed.Id, Ct));
        Assert.Equal(["persistent", "running"], (await store.ListSandboxesAsync(cancellationToken: Ct)).Select(s => s.Name));
    }

    [Fact]
    public async Task Volumes_are_recorded_like_msb_volume_create()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);

        var dir = await store.CreateVolumeAsync(new NewVolume("data", Labels: new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" }), Ct);
        var disk = await store.CreateVolumeAsync(new NewVolume("disk", VolumeKind.Disk, CapacityBytes: 1L << 30), Ct);

        Assert.Equal(VolumeKind.Dir, dir.Kind);
        Assert.Null(dir.DiskFormat);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }, dir.Labels);
        Assert.Equal(VolumeKind.Disk, disk.Kind);
        Assert.Equal(1L << 30, disk.CapacityBytes);
        Assert.Equal("raw", disk.DiskFormat);
        Assert.Equal("ext4", disk.DiskFstype);
        Assert.Empty(disk.Labels);

        Assert.Equal(
            [["dir", """{"a":"1","b":"2"}"""], ["disk", "<null>"]],
            SqliteDump.Rows(home.DatabasePath, "SELECT kind, labels FROM volume ORDER BY name"));
        Assert.Equal(["data", "disk"], (await store.ListVolumesAsync(Ct)).Select(v => v.Name));
        Assert.Equivalent(dir, await store.GetVolumeAsync("data", Ct), strict: true);

        var duplicate = await Assert.ThrowsAsync<MicrosandboxException>(() => store.CreateVolumeAsync(new NewVolume("data"), Ct));
        Assert.Contains("'data' already exists", duplicate.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => store.CreateVolumeAsync(new NewVolume("nodisk", VolumeKind.Disk), Ct));

        Assert.True(await store.DeleteVolumeAsync("data", Ct));
        Assert.False(await store.DeleteVolumeAsync("data", Ct));
        Assert.Null(await store.GetVolumeAsync("data", Ct));
    }

    [Fact]
    public async Task Timestamps_in_every_msb_precision_are_read_as_utc()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        var box = await store.InsertSandboxAsync("box", Config("box"), SandboxStatus.Stopped, Ct);

        var cases = new Dictionary<string, DateTime>
        {
            ["2026-11-23 09:04:26"] = new(2026, 11, 23, 9, 4, 26, DateTimeKind.Utc),
            ["2026-11-23 09:04:26.123"] = new DateTime(2026, 11, 23, 9, 4, 26, DateTimeKind.Utc).AddTicks(1_230_000),
            ["2026-11-23 09:04:26.234886612"] = new DateTime(2026, 11, 23, 9, 4, 26, DateTimeKind.Utc).AddTicks(2_348_866),
        };
        foreach (var (text, expected) in cases)
        {
            SqliteDump.Execute(home.DatabasePath, $"UPDATE sandbox SET created_at = '{text}' WHERE id = {box.Id}");
            var read = (await store.GetSandboxByIdAsync(box.Id, Ct))!.CreatedAt!.Value;
            Assert.Equal(expected, read);
            Assert.Equal(DateTimeKind.Utc, read.Kind);
        }
    }

    [Fact]
    public async Task Unknown_status_text_is_reported_not_guessed()
    {
        using var home = new TempHome();
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        var box = await store.InsertSandboxAsync("box", Config("box"), cancellationToken: Ct);
        SqliteDump.Execute(home.DatabasePath, $"UPDATE sandbox SET status = 'running' WHERE id = {box.Id}");

        var error = await Assert.ThrowsAsync<MicrosandboxException>(() => store.GetSandboxAsync("box", Ct));
        Assert.Contains("sandbox.status holds 'running'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_writers_do_not_lose_rows()
    {
        using var home = new TempHome();
        await using var first = await StateStore.OpenAsync(home.Path, Ct);
        await using var second = await StateStore.OpenAsync(home.Path, Ct);

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            (i % 2 == 0 ? first : second).InsertSandboxAsync($"s{i}", Config($"s{i}", labels: $$"""{"i":"{{i}}"}"""), SandboxStatus.Stopped, Ct)));

        var all = await first.ListSandboxesAsync(cancellationToken: Ct);
        Assert.Equal(40, all.Count);
        Assert.All(all, s => Assert.Equal(s.Name[1..], s.Labels["i"]));
    }
}
