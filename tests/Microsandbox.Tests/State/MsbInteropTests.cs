using System.Text.Json;
using Microsandbox.State;

namespace Microsandbox.Tests.State;

/// <summary>The real msb 0.6.18 and our store on the same catalog file, both directions.</summary>
public class MsbInteropTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // The shape msb 0.6.18 itself stored for `msb create DIR --name x1 --label team=qa --label tier=gold`.
    private static string MsbShapedConfig(string name) =>
        $$$"""{"name":"{{{name}}}","image":{"Bind":{"path":"/tmp/rootfs","follow_root_symlinks":false}},"resources":{"cpus":1,"memory_mib":512,"max_cpus":1,"max_memory_mib":512},"runtime":{"workdir":null,"shell":"/bin/sh","scripts":{},"entrypoint":null,"cmd":null,"hostname":null,"user":null,"log_level":null,"metrics_sample_interval_ms":1000,"disable_metrics_sample":false},"env":[],"labels":{"team":"qa","tier":"gold"},"rlimits":[],"mounts":[],"patches":[],"network":{"enabled":true,"ports":[],"strict":false,"max_connections":null,"trust_host_cas":false},"init":null,"pull_policy":"IfMissing","security_profile":"default","deployment_profile":"single_tenant","lifecycle":{"ephemeral":false,"max_duration_secs":null,"idle_timeout_secs":null},"manifest_digest":null}""";

    private static List<JsonElement> ParseList(string json) =>
        JsonDocument.Parse(json).RootElement.EnumerateArray().Select(e => e.Clone()).ToList();

    [Fact]
    public async Task Msb_ls_lists_a_sandbox_from_a_catalog_created_by_our_code_alone()
    {
        var msb = await RealMsb.RequireAsync();
        using var home = new TempHome();
        await using (var store = await StateStore.OpenAsync(home.Path, Ct))
        {
            await store.InsertSandboxAsync("ours", MsbShapedConfig("ours"), SandboxStatus.Stopped, Ct);
        }

        var (exit, stdout, stderr) = await RealMsb.RunAsync(msb, home.Path, "ls", "--format", "json");
        Assert.True(exit == 0, $"msb ls failed: {stderr}");
        Assert.DoesNotContain("migrat", stderr, StringComparison.OrdinalIgnoreCase);
        var listed = Assert.Single(ParseList(stdout));
        Assert.Equal("ours", listed.GetProperty("name").GetString());
        Assert.Equal("Stopped", listed.GetProperty("status").GetString());
        Assert.Equal("/tmp/rootfs", listed.GetProperty("image").GetString());

        // Labels are visible to msb's own label filter.
        var (_, matching, _) = await RealMsb.RunAsync(msb, home.Path, "ls", "--label", "team=qa", "--label", "tier=gold", "--format", "json");
        Assert.Equal("ours", Assert.Single(ParseList(matching)).GetProperty("name").GetString());
        var (_, notMatching, _) = await RealMsb.RunAsync(msb, home.Path, "ls", "--label", "team=other", "--format", "json");
        Assert.Empty(ParseList(notMatching));

        // And msb can remove it; our store then no longer sees it.
        var (rmExit, _, rmErr) = await RealMsb.RunAsync(msb, home.Path, "rm", "ours");
        Assert.True(rmExit == 0, rmErr);
        await using var reopened = await StateStore.OpenAsync(home.Path, Ct);
        Assert.Null(await reopened.GetSandboxAsync("ours", Ct));
    }

    [Fact]
    public async Task Msb_ls_treats_our_running_row_with_a_dead_pid_exactly_as_our_sweep_does()
    {
        var msb = await RealMsb.RequireAsync();
        using var msbSide = new TempHome();
        using var ourSide = new TempHome();
        var runs = new List<long>();
        foreach (var home in new[] { msbSide, ourSide })
        {
            await using var store = await StateStore.OpenAsync(home.Path, Ct);
            var sandbox = await store.InsertSandboxAsync("gone", MsbShapedConfig("gone"), SandboxStatus.Running, Ct);
            runs.Add((await store.InsertRunAsync(sandbox.Id, DeadPid(), Ct)).Id);
        }

        var (exit, stdout, stderr) = await RealMsb.RunAsync(msb, msbSide.Path, "ls", "--format", "json");
        Assert.True(exit == 0, stderr);
        Assert.Equal("Crashed", Assert.Single(ParseList(stdout)).GetProperty("status").GetString());

        await using var ours = await StateStore.OpenAsync(ourSide.Path, Ct);
        Assert.Single(await ours.SweepStaleAsync(Ct));

        await using var theirs = await StateStore.OpenAsync(msbSide.Path, Ct);
        var msbRun = (await theirs.GetRunAsync(runs[0], Ct))!;
        var ourRun = (await ours.GetRunAsync(runs[1], Ct))!;
        Assert.Equal((RunStatus.Terminated, TerminationReason.InternalError), (msbRun.Status, msbRun.TerminationReason));
        Assert.Equal((msbRun.Status, msbRun.TerminationReason, msbRun.ExitCode), (ourRun.Status, ourRun.TerminationReason, ourRun.ExitCode));
        Assert.Equal(SandboxStatus.Crashed, (await theirs.GetSandboxAsync("gone", Ct))!.Status);
        Assert.Equal(SandboxStatus.Crashed, (await ours.GetSandboxAsync("gone", Ct))!.Status);
    }

    [Fact]
    public async Task Volumes_written_by_either_side_are_read_by_the_other()
    {
        var msb = await RealMsb.RequireAsync();
        using var home = new TempHome();

        var (exit, _, stderr) = await RealMsb.RunAsync(msb, home.Path, "volume", "create", "theirs");
        Assert.True(exit == 0, stderr);

        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        var theirs = await store.GetVolumeAsync("theirs", Ct);
        Assert.NotNull(theirs);
        Assert.Equal(VolumeKind.Dir, theirs.Kind);
        Assert.NotNull(theirs.CreatedAt);

        await store.CreateVolumeAsync(new NewVolume("ours", Labels: new Dictionary<string, string> { ["k"] = "v" }), Ct);
        var (lsExit, stdout, lsErr) = await RealMsb.RunAsync(msb, home.Path, "volume", "ls", "--format", "json");
        Assert.True(lsExit == 0, lsErr);
        Assert.Equal(["ours", "theirs"], ParseList(stdout).Select(v => v.GetProperty("name").GetString()).Order());
    }

    [Fact]
    public async Task Store_reads_the_rows_msb_create_writes()
    {
        var msb = await RealMsb.RequireAsync();
        using var home = new TempHome();
        var rootfs = Path.Combine(home.Path, "rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
        await File.WriteAllTextAsync(Path.Combine(rootfs, "etc", "hostname"), "interop\n", Ct);

        // Without usable KVM this boots as far as "entering VM" and fails; with KVM the rootfs has no init and
        // the VM ends at once. Either way msb has written its sandbox and run rows by the time it returns.
        try
        {
            await RealMsb.RunAsync(msb, home.Path, "create", rootfs, "--name", "made-by-msb", "--label", "team=qa");

            await using var store = await StateStore.OpenAsync(home.Path, Ct);
            await store.SweepStaleAsync(Ct);
            var sandbox = await store.GetSandboxAsync("made-by-msb", Ct);
            Assert.NotNull(sandbox);
            Assert.Equal("qa", sandbox.Labels["team"]);
            Assert.False(sandbox.Ephemeral);
            Assert.Contains(rootfs, sandbox.ConfigJson, StringComparison.Ordinal);
            Assert.NotNull(sandbox.CreatedAt);

            var run = Assert.Single(await store.ListRunsAsync(sandbox.Id, Ct));
            Assert.NotNull(run.Pid);
            Assert.NotNull(run.StartedAt);
            if (sandbox.Status is SandboxStatus.Stopped or SandboxStatus.Crashed)
            {
                Assert.Equal(RunStatus.Terminated, run.Status);
                Assert.NotNull(run.TerminationReason);
                Assert.NotNull(run.TerminatedAt);
            }
        }
        finally
        {
            await RealMsb.RunAsync(msb, home.Path, "rm", "--force", "made-by-msb");
        }
    }

    private static int DeadPid()
    {
        // A pid that was just used and is now gone (reaped), so nothing can be alive under it right away.
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true"))!;
        process.WaitForExit();
        return process.Id;
    }
}
