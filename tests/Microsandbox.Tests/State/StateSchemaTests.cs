using Microsandbox.State;

namespace Microsandbox.Tests.State;

public class StateSchemaTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Schema_created_by_our_code_is_identical_to_the_one_msb_creates()
    {
        var msb = await RealMsb.RequireAsync();
        using var msbHome = new TempHome();
        using var ourHome = new TempHome();

        var (exit, _, stderr) = await RealMsb.RunAsync(msb, msbHome.Path, "ls", "--format", "json");
        Assert.True(exit == 0, stderr);
        await using (await StateStore.OpenAsync(ourHome.Path, Ct))
        {
        }

        // Same objects with the same DDL text, in the same sqlite_master order.
        Assert.Equal(SqliteDump.SchemaObjects(msbHome.DatabasePath), SqliteDump.SchemaObjects(ourHome.DatabasePath));
        // Same columns (type, nullability, default, key), indexes and foreign keys as SQLite itself reports them.
        Assert.Equal(SqliteDump.Columns(msbHome.DatabasePath), SqliteDump.Columns(ourHome.DatabasePath));
        // Same migration rows, in the same order.
        Assert.Equal(
            SqliteDump.Rows(msbHome.DatabasePath, "SELECT version FROM seaql_migrations ORDER BY rowid").Select(r => r[0]),
            SqliteDump.Rows(ourHome.DatabasePath, "SELECT version FROM seaql_migrations ORDER BY rowid").Select(r => r[0]));
        Assert.Equal(
            SqliteDump.Rows(msbHome.DatabasePath, "PRAGMA journal_mode")[0][0],
            SqliteDump.Rows(ourHome.DatabasePath, "PRAGMA journal_mode")[0][0]);
    }

    [Fact]
    public async Task New_catalog_records_all_migrations_of_the_pinned_runtime_in_wal_mode()
    {
        using var home = new TempHome();
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        await using (var store = await StateStore.OpenAsync(home.Path, Ct))
        {
            Assert.Equal(home.DatabasePath, store.DatabasePath);
        }

        var rows = SqliteDump.Rows(home.DatabasePath, "SELECT version, applied_at FROM seaql_migrations ORDER BY rowid");
        Assert.Equal(StateStore.MigrationVersions, rows.Select(r => r[0]));
        Assert.Equal(25, rows.Count);
        Assert.All(rows, r => Assert.InRange(long.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture), before, before + 60));
        Assert.Equal("wal", SqliteDump.Rows(home.DatabasePath, "PRAGMA journal_mode")[0][0]);
        Assert.True(File.Exists(home.DatabasePath + ".migration.lock"));
    }

    [Fact]
    public async Task Reopening_an_existing_catalog_keeps_its_rows_and_migrations()
    {
        using var home = new TempHome();
        await using (var store = await StateStore.OpenAsync(home.Path, Ct))
        {
            await store.InsertSandboxAsync("keep", """{"name":"keep"}""", SandboxStatus.Stopped, Ct);
        }

        await using (var store = await StateStore.OpenAsync(home.Path, Ct))
        {
            Assert.NotNull(await store.GetSandboxAsync("keep", Ct));
        }

        Assert.Equal(25, SqliteDump.Rows(home.DatabasePath, "SELECT count(*) FROM seaql_migrations")[0][0] switch { var s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) });
    }

    [Fact]
    public async Task Catalog_from_an_older_msb_is_refused_with_the_fix()
    {
        using var home = new TempHome();
        await using (await StateStore.OpenAsync(home.Path, Ct))
        {
        }

        SqliteDump.Execute(home.DatabasePath, "DELETE FROM seaql_migrations WHERE version = 'm20260818_000001_sandbox_network_slot'");

        var error = await Assert.ThrowsAsync<MicrosandboxException>(() => StateStore.OpenAsync(home.Path, Ct));
        Assert.Contains("older msb", error.Message, StringComparison.Ordinal);
        Assert.Contains("m20260818_000001_sandbox_network_slot", error.Message, StringComparison.Ordinal);
        Assert.Contains("msb ls", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Catalog_from_a_newer_msb_is_used()
    {
        using var home = new TempHome();
        await using (await StateStore.OpenAsync(home.Path, Ct))
        {
        }

        SqliteDump.Execute(home.DatabasePath, "INSERT INTO seaql_migrations VALUES ('m20991231_000001_future', 0)");

        await using var store = await StateStore.OpenAsync(home.Path, Ct);
        var record = await store.InsertSandboxAsync("after-upgrade", "{}", SandboxStatus.Stopped, Ct);
        Assert.Equal("after-upgrade", record.Name);
    }

    [Fact]
    public async Task Database_that_is_not_an_msb_catalog_is_refused()
    {
        using var home = new TempHome();
        Directory.CreateDirectory(Path.GetDirectoryName(home.DatabasePath)!);
        SqliteDump.Execute(home.DatabasePath, "CREATE TABLE something_else (x integer)");

        var error = await Assert.ThrowsAsync<MicrosandboxException>(() => StateStore.OpenAsync(home.Path, Ct));
        Assert.Contains("not an msb catalog", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unexpired_install_lease_blocks_opening_like_msb()
    {
        using var home = new TempHome();
        await using (await StateStore.OpenAsync(home.Path, Ct))
        {
        }

        var until = DateTime.UtcNow.AddMinutes(30).ToString("yyyy-MM-dd HH:mm:ss.fffffff00", System.Globalization.CultureInfo.InvariantCulture);
        SqliteDump.Execute(home.DatabasePath,
            $"INSERT INTO maintenance_lease (name, holder_pid, lease_expires_at) VALUES ('install_exclusive', 1, '{until}')");

        var error = await Assert.ThrowsAsync<MicrosandboxException>(() => StateStore.OpenAsync(home.Path, Ct));
        Assert.Contains("install", error.Message, StringComparison.Ordinal);

        // An expired lease (what msb leaves after a finished install) does not block.
        SqliteDump.Execute(home.DatabasePath, "UPDATE maintenance_lease SET lease_expires_at = '2020-01-01 00:00:00.000000000'");
        await using var store = await StateStore.OpenAsync(home.Path, Ct);
    }

    [Fact]
    public async Task Opening_with_msb_path_lets_msb_create_the_catalog()
    {
        var msb = await RealMsb.RequireAsync();
        using var home = new TempHome();

        await using var store = await StateStore.OpenAsync(home.Path, new StateStoreOptions { MsbPath = msb }, Ct);

        // msb (not our code) made it: its own maintenance lease row is there.
        Assert.Equal("install_exclusive", SqliteDump.Rows(home.DatabasePath, "SELECT name FROM maintenance_lease")[0][0]);
        Assert.Equal(StateStore.MigrationVersions, SqliteDump.Rows(home.DatabasePath, "SELECT version FROM seaql_migrations ORDER BY rowid").Select(r => r[0]));
    }

    [Fact]
    public async Task Open_rejects_empty_home()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => StateStore.OpenAsync(" ", Ct));
        Assert.Equal("home", error.ParamName);
    }
}
