using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.Services;

/// <summary>
/// Readiness waits on real VMs: each kind holds once its condition does, a failing one tears the sandbox down and
/// names itself with the last log lines, and a main process that exits first fails at once with its exit code.
/// </summary>
public sealed class WaitTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SandboxBuilder Service(string prefix, string script) =>
        new SandboxBuilder(VmEnvironment.UniqueName(prefix)).Image(BuiltinImages.Busybox).Ephemeral().Cmd("/bin/sh", "-c", script).MainProcess();

    [Fact]
    public async Task Port_http_log_and_command_waits_hold_once_the_service_is_up()
    {
        VmEnvironment.RequireVm();
        // The server starts late, after two "Ready" lines and a marker file, so each wait has something to wait for.
        const string script = "echo Ready once; sleep 1; mkdir -p /www; echo hello > /www/index.html; echo Ready twice; touch /tmp/marker; exec httpd -f -p 8080 -h /www";
        await using var sb = await Sandbox.CreateAsync(
            Service("waits", script).Port(0, 8080)
                .WaitFor(Wait.ForLogMessage("^Ready", times: 2))
                .WaitFor(Wait.ForCommand("test", "-f", "/tmp/marker"))
                .WaitFor(Wait.ForPort(8080))
                .WaitFor(Wait.ForHttp("/index.html", 8080)),
            VmEnvironment.Options(output), Ct);

        // Returned only when all held: the page is served now.
        using var http = new HttpClient();
        Assert.Equal("hello\n", await http.GetStringAsync(new Uri($"http://127.0.0.1:{sb.GetMappedPort(8080)}/index.html"), Ct));
        Assert.Contains(await sb.GetLogsAsync(cancellationToken: Ct), l => l.Text == "Ready twice");
    }

    [Fact]
    public async Task A_wait_that_never_holds_fails_naming_itself_with_the_last_log_lines_and_leaves_nothing()
    {
        VmEnvironment.RequireVm();
        var builder = Service("wait-timeout", "echo still booting; sleep 1000")
            .WaitFor(Wait.ForLogMessage("never printed").WithTimeout(TimeSpan.FromSeconds(3)));
        var name = builder.Build().Spec.Name;
        var e = await Assert.ThrowsAsync<WaitFailedException>(() => Sandbox.CreateAsync(builder, VmEnvironment.Options(output), Ct));
        output.WriteLine(e.Message);
        Assert.Equal("log message /never printed/", e.Wait);
        Assert.StartsWith($"sandbox '{name}': wait for log message /never printed/ failed: it did not hold within 3 s; last log lines: ", e.Message, StringComparison.Ordinal);
        Assert.Equal("still booting", e.LastLogLines[^1]);
        await AssertGoneAsync(name);
    }

    [Fact]
    public async Task A_main_process_that_exits_at_once_fails_the_wait_with_its_exit_code_and_output()
    {
        VmEnvironment.RequireVm();
        var builder = Service("wait-exit", "echo cannot start: no config >&2; exit 7").WaitFor(Wait.ForPort(5432));
        var name = builder.Build().Spec.Name;
        var e = await Assert.ThrowsAsync<WaitFailedException>(() => Sandbox.CreateAsync(builder, VmEnvironment.Options(output), Ct));
        output.WriteLine(e.Message);
        Assert.Contains("wait for port 5432/tcp failed: the main process exited with code 7 first", e.Message, StringComparison.Ordinal);
        Assert.Contains("cannot start: no config", e.LastLogLines);
        Assert.Equal("main process exited with code 7", e.LastLogLines[^1]);
        await AssertGoneAsync(name);
    }

    [Fact]
    public async Task An_entrypoint_that_does_not_exist_fails_the_wait_at_once_with_127_and_the_agents_words()
    {
        VmEnvironment.RequireVm();
        var builder = new SandboxBuilder(VmEnvironment.UniqueName("wait-noent")).Image(BuiltinImages.Busybox).Ephemeral()
            .Entrypoint("/usr/bin/no-such-server").MainProcess().WaitFor(Wait.ForPort(80));
        var name = builder.Build().Spec.Name;
        var e = await Assert.ThrowsAsync<WaitFailedException>(() => Sandbox.CreateAsync(builder, VmEnvironment.Options(output), Ct));
        output.WriteLine(e.Message);
        Assert.Contains("wait for port 80/tcp failed: the main process exited with code 127 first", e.Message, StringComparison.Ordinal);
        Assert.Contains(e.LastLogLines, l => l.StartsWith("main process failed: ", StringComparison.Ordinal) && l.Contains("no-such-server", StringComparison.Ordinal));
        await AssertGoneAsync(name);
    }

    [Fact]
    public async Task A_service_the_guests_oom_killer_kills_fails_the_wait_saying_so()
    {
        VmEnvironment.RequireVm();
        // `tail` of an endless line keeps all of it in memory until the kernel's OOM killer ends it.
        var builder = Service("wait-oom", "echo filling memory; exec tail /dev/zero").Memory(256).WaitFor(Wait.ForPort(6379).WithTimeout(TimeSpan.FromSeconds(120)));
        var e = await Assert.ThrowsAsync<WaitFailedException>(() => Sandbox.CreateAsync(builder, VmEnvironment.Options(output), Ct));
        output.WriteLine(e.Message);
        Assert.Contains("the main process exited with code -1 first", e.Message, StringComparison.Ordinal);
        Assert.Contains(e.LastLogLines, l => l.StartsWith("main process failed: killed by the guest's out-of-memory killer (Out of memory: Killed process", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_missing_program_fails_a_command_wait_at_once()
    {
        VmEnvironment.RequireVm();
        var builder = Service("wait-noprog", "sleep 1000").WaitFor(Wait.ForCommand("pg_isready"));
        var e = await Assert.ThrowsAsync<WaitFailedException>(() => Sandbox.CreateAsync(builder, VmEnvironment.Options(output), Ct));
        Assert.Contains("wait for command `pg_isready` failed: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("pg_isready", e.Message[e.Message.IndexOf("failed:", StringComparison.Ordinal)..], StringComparison.Ordinal);
        Assert.DoesNotContain("did not hold within", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_health_check_gates_create_and_its_state_follows_the_service()
    {
        VmEnvironment.RequireVm();
        await using var sb = await Sandbox.CreateAsync(
            Service("health", "sleep 2; touch /tmp/healthy; exec sleep 1000")
                .Healthcheck(["CMD-SHELL", "test -f /tmp/healthy"], interval: TimeSpan.FromMilliseconds(500), startPeriod: TimeSpan.FromSeconds(20), retries: 2)
                .WaitFor(Wait.ForHealthcheck()),
            VmEnvironment.Options(output), Ct);
        Assert.Equal(HealthStatus.Healthy, sb.Health);
        // Past the first success the start period no longer shields failures (Docker's rule).

        // Checked by the sandbox process: every reader sees the same state.
        Assert.Equal(HealthStatus.Healthy, (await Sandboxes.InspectAsync(sb.Name, VmEnvironment.Options(), Ct))!.Health);

        await sb.ShellAsync("rm /tmp/healthy", Ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        while (sb.Health != HealthStatus.Unhealthy) await Task.Delay(100, cts.Token);
        Assert.Equal(HealthStatus.Unhealthy, (await Sandboxes.InspectAsync(sb.Name, VmEnvironment.Options(), Ct))!.Health);
    }

    [Fact]
    public async Task A_health_check_that_floods_its_output_is_kept_to_4_KiB()
    {
        VmEnvironment.RequireVm();
        await using var sb = await Sandbox.CreateAsync(
            Service("health-flood", "exec sleep 1000")
                .Healthcheck(["CMD-SHELL", "head -c 8388608 /dev/zero | tr '\\0' x; exit 0"], interval: TimeSpan.FromSeconds(30))
                .WaitFor(Wait.ForHealthcheck()),
            VmEnvironment.Options(output), Ct);
        Assert.Equal(HealthStatus.Healthy, sb.Health);
        Assert.Equal(new string('x', 4096), sb.LastHealthOutput);
    }

    [Fact]
    public async Task An_unhealthy_service_fails_the_healthcheck_wait_before_its_timeout()
    {
        VmEnvironment.RequireVm();
        var builder = Service("unhealthy", "sleep 1000")
            .Healthcheck(["CMD", "sh", "-c", "echo database is down; exit 1"], interval: TimeSpan.FromMilliseconds(200), retries: 2)
            .WaitFor(Wait.ForHealthcheck().WithTimeout(TimeSpan.FromSeconds(50)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<WaitFailedException>(() => Sandbox.CreateAsync(builder, VmEnvironment.Options(output), Ct));
        Assert.Contains("wait for healthcheck failed: the health check reported unhealthy: database is down", e.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(50), "an unhealthy check fails the wait without waiting for its timeout");
    }

    [Fact]
    public async Task Waits_the_sandbox_cannot_satisfy_are_refused_before_anything_boots()
    {
        var http = await Assert.ThrowsAsync<InvalidConfigException>(() => Sandbox.CreateAsync(
            Service("wait-bad", "true").WaitFor(Wait.ForHttp("/", 8080)), VmEnvironment.Options(output), Ct));
        Assert.Equal("wait for HTTP 200 on :8080/: guest port 8080/tcp is not published; add it with SandboxBuilder.Port", http.Message);
        var health = await Assert.ThrowsAsync<InvalidConfigException>(() => Sandbox.CreateAsync(
            Service("wait-bad", "true").WaitFor(Wait.ForHealthcheck()), VmEnvironment.Options(output), Ct));
        Assert.Equal("wait for healthcheck: the image declares no HEALTHCHECK and the builder sets none (SandboxBuilder.Healthcheck)", health.Message);
        Assert.Throws<ArgumentException>(() => Wait.ForHttp("index.html", 80));
        Assert.ThrowsAny<ArgumentException>(() => Wait.ForLogMessage("(unclosed"));
    }

    private static async Task AssertGoneAsync(string name)
    {
        await using var store = await Microsandbox.State.StateStore.OpenAsync(VmEnvironment.Home, Ct);
        Assert.Null(await store.GetSandboxAsync(name, Ct));
        Assert.Empty(LifecycleTests.QemuProcessesFor(name));
    }
}
