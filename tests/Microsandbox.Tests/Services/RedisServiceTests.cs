using Microsandbox.Spec;
using Microsandbox.Tests.Vm;
using StackExchange.Redis;

namespace Microsandbox.Tests.Services;

/// <summary>
/// Redis from its image with no command given, as a Testcontainers user runs it: the image's entrypoint as the main
/// process, a readiness wait on its log, a real client (StackExchange.Redis) through the published port, the guest's
/// own redis-cli seeing the same key, and a stop that shuts Redis down by SIGTERM with its exit code recorded.
/// </summary>
public sealed class RedisServiceTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Redis_runs_from_its_image_serves_a_real_client_and_stops_on_SIGTERM()
    {
        VmEnvironment.RequireVm();
        var image = ServiceImages.Path("redis");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var redis = await Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("redis")).Image(image).Ephemeral().PublishExposedPorts().MainProcess()
                .WaitFor(Wait.ForLogMessage("Ready to accept connections")),
            VmEnvironment.Options(output), Ct);
        output.WriteLine($"created and ready in {clock.Elapsed.TotalSeconds:0.0} s");

        await using (var client = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{redis.GetMappedPort(6379)},connectTimeout=10000"))
        {
            var db = client.GetDatabase();
            Assert.True(await db.StringSetAsync("greeting", "hello from the host"));
            Assert.Equal("hello from the host", (string?)await db.StringGetAsync("greeting"));
        }
        var cli = await redis.ExecAsync("redis-cli", ["GET", "greeting"], Ct);
        Assert.Equal("hello from the host\n", cli.Stdout);
        // The image's entrypoint dropped to user redis, in the image's workdir, where the RDB file lands.
        var owner = await redis.ShellAsync("pid=$(pidof redis-server); stat -c %U /proc/$pid; readlink /proc/$pid/cwd", Ct);
        Assert.Equal("redis\n/data\n", owner.Stdout);

        await redis.StopAsync(Ct);
        var logs = await redis.GetLogsAsync(new LogOptions { Sources = [LogSource.Stdout, LogSource.Stderr, LogSource.System] }, Ct);
        foreach (var line in logs.TakeLast(12)) output.WriteLine(line.ToString());
        Assert.Contains(logs, l => l.Text.Contains("Ready to accept connections", StringComparison.Ordinal));
        Assert.Contains(logs, l => l.Text.Contains("Received SIGTERM scheduling shutdown", StringComparison.Ordinal));
        Assert.Contains(logs, l => l.Text.Contains("ready to exit, bye bye", StringComparison.Ordinal));
        Assert.Equal(0, await redis.GetExitCodeAsync(Ct));
    }
}
