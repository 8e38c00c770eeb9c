using Npgsql;
using StackExchange.Redis;
using Testcontainers.PostgreSql;
using Testcontainers.Redis;

namespace Microsandbox.Tests.DockerApi;

/// <summary>
/// Testcontainers' own Redis and PostgreSQL modules (4.17.0, unmodified: their waits, commands and connection
/// strings), their servers in microVMs behind the Docker API server, spoken to by the real clients.
/// </summary>
[Collection(DockerApiCollection.Name)]
public sealed class TestcontainersModuleTests(DockerApiFixture fixture, ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Redis_module_serves_StackExchange_Redis_and_a_second_one_resumes_from_the_first_ones_ready_state()
    {
        var server = fixture.Server;
        DotNet.Testcontainers.Configurations.TestcontainersSettings.ResourceReaperEnabled = false;
        for (int round = 1; round <= 2; round++)
        {
            await using var redis = new RedisBuilder(fixture.RedisImage).WithDockerEndpoint(server.DockerHost).Build();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await redis.StartAsync(Ct);
            output.WriteLine($"Redis module {round} ready in {clock.Elapsed.TotalSeconds:0.0} s at {redis.GetConnectionString()}");
            await using var client = await ConnectionMultiplexer.ConnectAsync(redis.GetConnectionString() + ",connectTimeout=10000");
            var db = client.GetDatabase();
            // The second server is a clone of the first one's ready state, not of its data.
            Assert.False(await db.KeyExistsAsync("through"));
            Assert.True(await db.StringSetAsync("through", "the docker api"));
            Assert.Equal("the docker api", (string?)await db.StringGetAsync("through"));
            // The module's own helper runs redis-cli in the container: the same server, the same key.
            var cli = await redis.ExecAsync(["redis-cli", "GET", "through"], Ct);
            Assert.Equal("the docker api\n", cli.Stdout);
            var system = await Sandboxes.GetLogsAsync(redis.Name.TrimStart('/'), new LogOptions { Sources = [Microsandbox.Spec.LogSource.System] }, Vm.VmEnvironment.Options(), Ct);
            var resumed = system.Any(l => l.Text.Contains("resumed from a ready-state template", StringComparison.Ordinal));
            Assert.True(resumed == (round == 2), $"round {round}: resumed={resumed}\n{string.Join('\n', system.Select(l => l.Text))}");
        }
    }

    [Fact]
    public async Task PostgreSql_module_serves_Npgsql()
    {
        var server = fixture.Server;
        DotNet.Testcontainers.Configurations.TestcontainersSettings.ResourceReaperEnabled = false;
        await using var postgres = new PostgreSqlBuilder(fixture.PostgresImage).WithDockerEndpoint(server.DockerHost).Build();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await postgres.StartAsync(Ct);
        output.WriteLine($"PostgreSQL module ready in {clock.Elapsed.TotalSeconds:0.0} s");
        await using var connection = new NpgsqlConnection(postgres.GetConnectionString());
        await connection.OpenAsync(Ct);
        await using (var create = new NpgsqlCommand("CREATE TABLE greeting (text varchar(40)); INSERT INTO greeting VALUES ('hello from npgsql')", connection))
            await create.ExecuteNonQueryAsync(Ct);
        await using (var query = new NpgsqlCommand("SELECT text FROM greeting", connection))
            Assert.Equal("hello from npgsql", await query.ExecuteScalarAsync(Ct));
        // The module's settings reached the server: Testcontainers starts it with fsync off.
        await using (var fsync = new NpgsqlCommand("SHOW fsync", connection))
            Assert.Equal("off", await fsync.ExecuteScalarAsync(Ct));
    }
}
