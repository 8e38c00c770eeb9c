using Microsandbox.Modules;
using Microsandbox.Tests.Vm;
using Npgsql;
using StackExchange.Redis;

namespace Microsandbox.Tests.Services;

/// <summary>
/// The PostgreSQL and Redis modules with real clients: Npgsql creates, fills and reads a table; a second, fresh
/// PostgreSQL, resumed from the first one's ready-state template, does not see it; StackExchange.Redis round-trips through the module's connection string.
/// </summary>
public sealed class ModuleTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PostgreSql_serves_Npgsql_and_each_sandbox_starts_with_its_own_empty_database()
    {
        VmEnvironment.RequireVm();
        var builder = new PostgreSqlBuilder().WithImage(ServiceImages.Path("postgres")).WithDatabase("shop").WithUsername("app").WithPassword("s3cret;pw");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using (var pg = await builder.StartAsync(VmEnvironment.Options(output, TimeSpan.FromSeconds(180)), Ct))
        {
            output.WriteLine($"first PostgreSQL ready in {clock.Elapsed.TotalSeconds:0.0} s: {pg.GetConnectionString()}");
            Assert.Contains("Password='s3cret;pw'", pg.GetConnectionString(), StringComparison.Ordinal);
            await using var connection = new NpgsqlConnection(pg.GetConnectionString());
            await connection.OpenAsync(Ct);
            await using (var create = new NpgsqlCommand("CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'cake')", connection))
                await create.ExecuteNonQueryAsync(Ct);
            await using (var select = new NpgsqlCommand("SELECT string_agg(item, ',' ORDER BY id) FROM orders", connection))
                Assert.Equal("tea,cake", await select.ExecuteScalarAsync(Ct));
            await using (var who = new NpgsqlCommand("SELECT current_user || '@' || current_database()", connection))
                Assert.Equal("app@shop", await who.ExecuteScalarAsync(Ct));

            var script = await pg.ExecScriptAsync("SELECT count(*) FROM orders;", Ct);
            Assert.Equal(0, script.ExitCode);
            Assert.Contains("2", script.Stdout, StringComparison.Ordinal);
        }

        var cold = clock.Elapsed;
        clock.Restart();
        await using var second = await builder.StartAsync(VmEnvironment.Options(output, TimeSpan.FromSeconds(180)), Ct);
        output.WriteLine($"first PostgreSQL (cold, saved as the ready-state template) {cold.TotalSeconds:0.0} s; second, resumed from it, {clock.Elapsed.TotalSeconds:0.00} s");
        // The second one came from the first one's ready state (the module's default), with PostgreSQL already running.
        var system = await second.Sandbox.GetLogsAsync(new LogOptions { Sources = [Microsandbox.Spec.LogSource.System] }, Ct);
        Assert.Contains(system, l => l.Text.Contains("resumed from a ready-state template", StringComparison.Ordinal));
        await using var fresh = new NpgsqlConnection(second.GetConnectionString());
        await fresh.OpenAsync(Ct);
        await using var exists = new NpgsqlCommand("SELECT to_regclass('public.orders') IS NULL", fresh);
        Assert.Equal(true, await exists.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task Redis_module_gives_a_connection_string_StackExchange_Redis_uses()
    {
        VmEnvironment.RequireVm();
        await using var redis = await new RedisBuilder().WithImage(ServiceImages.Path("redis")).StartAsync(VmEnvironment.Options(output), Ct);
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.GetConnectionString());
        var db = client.GetDatabase();
        Assert.Equal(3, await db.ListRightPushAsync("queue", ["a", "b", "c"]));
        Assert.Equal("3\n", (await redis.ExecCliAsync(["LLEN", "queue"], Ct)).Stdout);
    }

    [Fact]
    public void Module_builders_refuse_empty_settings_and_keep_their_defaults_immutable()
    {
        var a = new PostgreSqlBuilder();
        var b = a.WithDatabase("other");
        Assert.NotSame(a, b);
        Assert.Throws<ArgumentException>(() => a.WithPassword(""));
        Assert.Equal("postgres:15", PostgreSqlBuilder.DefaultImage);
        Assert.Equal("redis:7", RedisBuilder.DefaultImage);
    }
}
