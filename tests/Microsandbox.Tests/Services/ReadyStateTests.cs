using Microsandbox.Spec;
using Microsandbox.Tests.Vm;
using StackExchange.Redis;

namespace Microsandbox.Tests.Services;

/// <summary>
/// Ready-state templates on real VMs: the first sandbox of a shape boots cold, runs its waits and is saved; the next
/// resumes with the service already running, under its own identity, and sees none of the first one's writes.
/// </summary>
public sealed class ReadyStateTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Redis_clone_resumes_ready_with_its_own_identity_and_none_of_the_first_ones_writes()
    {
        VmEnvironment.RequireVm();
        // A shape of this test's own (a run id in its environment), so the first sandbox is always the cold one; the
        // second differs only in its name (so its hostname).
        var run = Guid.NewGuid().ToString("N");
        SandboxBuilder Shape(string name) => new SandboxBuilder(name).Image(ServiceImages.Path("redis")).Ephemeral().PublishExposedPorts()
            .Env("READY_STATE_TEST", run).MainProcess().ReadyStateSnapshot()
            .WaitFor(Wait.ForLogMessage("Ready to accept connections"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var first = await Sandbox.CreateAsync(Shape(VmEnvironment.UniqueName("rs-a")), VmEnvironment.Options(output), Ct);
        var cold = clock.Elapsed;
        await using (var client = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{first.GetMappedPort(6379)},connectTimeout=10000"))
            Assert.True(await client.GetDatabase().StringSetAsync("owner", "first"));

        clock.Restart();
        await using var second = await Sandbox.CreateAsync(Shape(VmEnvironment.UniqueName("rs-b")), VmEnvironment.Options(output), Ct);
        var ready = clock.Elapsed;
        output.WriteLine($"cold {cold.TotalSeconds:0.00} s (includes the save), from the ready-state template {ready.TotalSeconds:0.00} s");

        var resumed = await second.GetLogsAsync(new LogOptions { Sources = [LogSource.System] }, Ct);
        Assert.Contains(resumed, l => l.Text.Contains("resumed from a ready-state template", StringComparison.Ordinal));
        // The service was already up: its log carries the template's start, and no second start.
        var all = await second.GetLogsAsync(new LogOptions(), Ct);
        Assert.Single(all, l => l.Text.Contains("Ready to accept connections", StringComparison.Ordinal));

        await using (var client = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{second.GetMappedPort(6379)},connectTimeout=10000"))
        {
            var db = client.GetDatabase();
            Assert.False((await db.StringGetAsync("owner")).HasValue);
            Assert.True(await db.StringSetAsync("owner", "second"));
        }
        await using (var client = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{first.GetMappedPort(6379)},connectTimeout=10000"))
            Assert.Equal("first", (string?)await client.GetDatabase().StringGetAsync("owner"));

        // Own identity: hostname, a clock that is now and not the save's, and a random stream of its own.
        Assert.Equal(second.Name + "\n", (await second.ExecAsync("hostname", [], Ct)).Stdout);
        Assert.Equal(first.Name + "\n", (await first.ExecAsync("hostname", [], Ct)).Stdout);
        var guestNow = long.Parse((await second.ExecAsync("date", ["+%s"], Ct)).Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(guestNow - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), -5, 5);
        var randomA = (await first.ShellAsync("head -c 16 /dev/urandom | od -An -tx1", Ct)).Stdout;
        var randomB = (await second.ShellAsync("head -c 16 /dev/urandom | od -An -tx1", Ct)).Stdout;
        Assert.NotEqual(randomA, randomB);

        // The adopted main process is still the sandbox's: a stop ends it by SIGTERM and records its exit code.
        await second.StopAsync(Ct);
        var logs = await second.GetLogsAsync(new LogOptions(), Ct);
        Assert.Contains(logs, l => l.Text.Contains("Received SIGTERM scheduling shutdown", StringComparison.Ordinal));
        Assert.Equal(0, await second.GetExitCodeAsync(Ct));
    }

    [Fact]
    public async Task Ready_state_needs_a_main_process_and_a_guest_that_holds_all_its_state()
    {
        VmEnvironment.RequireVm();
        var noMain = await Assert.ThrowsAsync<InvalidConfigException>(() => Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("rs-x")).Image(ServiceImages.Path("redis")).Ephemeral().ReadyStateSnapshot(), VmEnvironment.Options(output), Ct));
        Assert.Contains("ready_state_snapshot: needs a main process", noMain.Message, StringComparison.Ordinal);
        var dir = Directory.CreateTempSubdirectory("msbt-rs-").FullName;
        var mounted = await Assert.ThrowsAsync<InvalidConfigException>(() => Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("rs-y")).Image(ServiceImages.Path("redis")).Ephemeral().MainProcess()
                .Volume("/data", m => m.Bind(dir)).ReadyStateSnapshot(), VmEnvironment.Options(output), Ct));
        Assert.Contains("ready_state_snapshot: the sandbox has host mounts", mounted.Message, StringComparison.Ordinal);
    }
}
