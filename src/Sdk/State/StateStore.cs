using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsandbox.State;

/// <summary>
/// The state catalog shared with the real upstream runtime: msb's own SQLite file
/// <c>&lt;home&gt;/db/msb.db</c> (WAL, busy timeout, foreign keys on), with its tables, columns, status strings
/// and timestamp format, so <c>msb ls</c> sees what we write and we see what msb writes.
/// This type is the only place in the toolkit that writes SQL.
/// </summary>
/// <remarks>
/// Safe to use from several threads: every call borrows its own pooled connection. Writes that touch more
/// than one row run in <c>BEGIN IMMEDIATE</c> transactions so a concurrent msb cannot interleave.
/// </remarks>
public sealed partial class StateStore : IAsyncDisposable
{
    private const string DatabaseFileName = "msb.db";
    private const string InstallExclusiveLease = "install_exclusive";

    private readonly string _connectionString;
    private readonly int _busyTimeoutMs;
    private readonly ILogger _logger;
    private int _disposed;

    private StateStore(string home, string databasePath, string connectionString, int busyTimeoutMs, ILogger logger)
    {
        Home = home;
        DatabasePath = databasePath;
        _connectionString = connectionString;
        _busyTimeoutMs = busyTimeoutMs;
        _logger = logger;
    }

    /// <summary>The state directory this catalog belongs to (msb's <c>MSB_HOME</c>).</summary>
    public string Home { get; }

    /// <summary>Full path of the SQLite file, <c>&lt;home&gt;/db/msb.db</c>.</summary>
    public string DatabasePath { get; }

    /// <summary>The <c>seaql_migrations</c> versions a catalog of msb 0.6.18 carries, in msb's order.</summary>
    public static IReadOnlyList<string> MigrationVersions => MsbSchema.MigrationVersions;

    /// <summary>The msb release whose schema this store creates and expects.</summary>
    public static string SchemaRuntimeVersion => MsbSchema.RuntimeVersion;

    /// <summary>The default state directory: <c>$MSB_HOME</c> when set, otherwise <c>~/.microsandbox</c> (msb's rule).</summary>
    public static string ResolveHome()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("MSB_HOME");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".microsandbox");
    }

    /// <summary>The catalog path inside a state directory: <c>&lt;home&gt;/db/msb.db</c>.</summary>
    /// <param name="home">The state directory.</param>
    public static string DatabasePathFor(string home) => Path.Combine(home, "db", DatabaseFileName);

    /// <summary>Opens (creating if needed) the catalog of <paramref name="home"/> with default options.</summary>
    /// <param name="home">The state directory (see <see cref="ResolveHome"/>).</param>
    /// <param name="cancellationToken">Cancels waiting for the migration lock.</param>
    public static Task<StateStore> OpenAsync(string home, CancellationToken cancellationToken = default) =>
        OpenAsync(home, new StateStoreOptions(), cancellationToken);

    /// <summary>
    /// Opens the catalog of <paramref name="home"/>. A missing catalog is created by msb when
    /// <see cref="StateStoreOptions.MsbPath"/> is set, otherwise here with msb 0.6.18's exact schema and
    /// migration rows. An existing catalog must carry all of 0.6.18's migrations; one from an older msb is
    /// refused with the fix (let msb 0.6.18 migrate it), one from a newer msb is used with a warning.
    /// </summary>
    /// <param name="home">The state directory (see <see cref="ResolveHome"/>).</param>
    /// <param name="options">Busy timeout, optional msb binary, logger.</param>
    /// <param name="cancellationToken">Cancels waiting for the migration lock or for msb.</param>
    public static async Task<StateStore> OpenAsync(string home, StateStoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(home))
        {
            throw new ArgumentException("home must name the state directory (e.g. ~/.microsandbox)", nameof(home));
        }

        if (options.BusyTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("BusyTimeout must be positive", nameof(options));
        }

        var logger = options.Logger ?? NullLogger.Instance;
        var fullHome = Path.GetFullPath(home);
        var databasePath = DatabasePathFor(fullHome);
        Directory.CreateDirectory(Path.GetDirectoryName(databasePath)!);

        if (options.MsbPath is not null)
        {
            await RunMsbMigrationAsync(options.MsbPath, fullHome, options.MsbMigrationTimeout, logger, cancellationToken);
        }

        var busyMs = (int)Math.Min(int.MaxValue, options.BusyTimeout.TotalMilliseconds);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        }.ToString();

        var store = new StateStore(fullHome, databasePath, connectionString, busyMs, logger);
        using (await FileLock.AcquireAsync(databasePath + ".migration.lock", cancellationToken))
        {
            await using var connection = await store.ConnectAsync(cancellationToken);
            await store.EnsureSchemaAsync(connection, cancellationToken);
        }

        return store;
    }

    /// <summary>Releases pooled connections to the catalog file.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            using var connection = new SqliteConnection(_connectionString);
            SqliteConnection.ClearPool(connection);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Opens a pooled connection with msb's per-connection PRAGMAs.</summary>
    internal async Task<SqliteConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await ExecuteAsync(connection, null,
                string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {_busyTimeoutMs}; PRAGMA synchronous = NORMAL;"),
                cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task EnsureSchemaAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        // WAL is a property of the file; msb sets it on every connect, so do we before anything else.
        await ExecuteAsync(connection, null, "PRAGMA journal_mode = WAL;", cancellationToken);

        if (!await TableExistsAsync(connection, "seaql_migrations", cancellationToken))
        {
            var userObjects = Convert.ToInt64(await ScalarAsync(connection, null,
                "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'", cancellationToken), CultureInfo.InvariantCulture);
            if (userObjects > 0)
            {
                throw new MicrosandboxException(
                    $"{DatabasePath} has tables but no seaql_migrations table, so it is not an msb catalog; move it away and retry");
            }

            await CreateSchemaAsync(connection, cancellationToken);
            return;
        }

        await RefuseIfInstallInProgressAsync(connection, cancellationToken);
        await CheckMigrationsAsync(connection, cancellationToken);
    }

    private async Task CreateSchemaAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        _logger.LogInformation("Creating state catalog {Path} with the msb {Version} schema", DatabasePath, MsbSchema.RuntimeVersion);
        await using var transaction = connection.BeginTransaction(deferred: false);
        // In msb's file sqlite_sequence sits right after seaql_migrations (its first AUTOINCREMENT table was
        // later rebuilt). A throwaway AUTOINCREMENT table puts it in the same place, so sqlite_master matches
        // msb's object for object and in order.
        await ExecuteAsync(connection, transaction, MsbSchema.Statements[0], cancellationToken);
        await ExecuteAsync(connection, transaction,
            "CREATE TABLE msb_dotnet_sequence_seed (id integer PRIMARY KEY AUTOINCREMENT); DROP TABLE msb_dotnet_sequence_seed;",
            cancellationToken);
        foreach (var statement in MsbSchema.Statements.Skip(1))
        {
            await ExecuteAsync(connection, transaction, statement, cancellationToken);
        }

        // sea-orm records applied_at as Unix seconds.
        var appliedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (var version in MsbSchema.MigrationVersions)
        {
            await ExecuteAsync(connection, transaction,
                "INSERT INTO seaql_migrations (version, applied_at) VALUES ($version, $appliedAt)",
                cancellationToken, ("$version", version), ("$appliedAt", appliedAt));
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private async Task CheckMigrationsAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        var applied = new List<string>();
        await using (var command = Command(connection, null, "SELECT version FROM seaql_migrations"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetString(0));
            }
        }

        var appliedSet = applied.ToHashSet(StringComparer.Ordinal);
        var missing = MsbSchema.MigrationVersions.Where(v => !appliedSet.Contains(v)).ToList();
        var unknown = applied.Where(v => !MsbSchema.MigrationVersions.Contains(v, StringComparer.Ordinal)).ToList();

        if (missing.Count == 0 && unknown.Count == 0)
        {
            return;
        }

        if (missing.Count == 0)
        {
            // A newer msb migrated further. Its additions so far have been new tables and nullable or defaulted
            // columns, which the rows we write still satisfy, so carry on but say so.
            _logger.LogWarning(
                "State catalog {Path} was migrated by an msb newer than {Version} (extra migrations: {Extra}); continuing",
                DatabasePath, MsbSchema.RuntimeVersion, string.Join(", ", unknown));
            return;
        }

        if (unknown.Count == 0)
        {
            throw new MicrosandboxException(
                $"{DatabasePath} was created by an older msb: {missing.Count} of the {MsbSchema.MigrationVersions.Count} migrations of msb " +
                $"{MsbSchema.RuntimeVersion} are missing (first: {missing[0]}). Run `msb ls` once with msb {MsbSchema.RuntimeVersion} " +
                $"(MSB_HOME={Home}) to migrate it, or open the store with StateStoreOptions.MsbPath set");
        }

        throw new MicrosandboxException(
            $"{DatabasePath} has migrations this toolkit does not know ({string.Join(", ", unknown)}) and lacks some it needs " +
            $"({string.Join(", ", missing)}); it was not written by msb {MsbSchema.RuntimeVersion}");
    }

    private async Task RefuseIfInstallInProgressAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        if (!await TableExistsAsync(connection, "maintenance_lease", cancellationToken))
        {
            return;
        }

        var expires = await ScalarAsync(connection, null,
            "SELECT lease_expires_at FROM maintenance_lease WHERE name = $name", cancellationToken, ("$name", InstallExclusiveLease));
        if (MsbTimestamp.ParseOrNull(expires) is { } until && until > MsbTimestamp.Now())
        {
            throw new MicrosandboxException(
                $"an msb install or upgrade holds {DatabasePath} until {MsbTimestamp.Format(until)} UTC; retry after it completes");
        }
    }

    private static async Task RunMsbMigrationAsync(string msbPath, string home, TimeSpan timeout, ILogger logger, CancellationToken cancellationToken)
    {
        // Any msb command connects and migrates first; `ls` is the cheapest one with no side effects beyond that.
        var startInfo = new ProcessStartInfo(msbPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("ls");
        startInfo.ArgumentList.Add("--format");
        startInfo.ArgumentList.Add("json");
        startInfo.Environment["MSB_HOME"] = home;

        logger.LogDebug("Letting {Msb} create or migrate the catalog in {Home}", msbPath, home);
        using var process = Process.Start(startInfo)
            ?? throw new MicrosandboxException($"could not start {msbPath} to migrate the state catalog");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new MicrosandboxException($"`{msbPath} ls` did not finish migrating {home} within {timeout.TotalSeconds:0} s");
        }

        await stdout;
        var errorText = await stderr;
        if (process.ExitCode != 0)
        {
            throw new MicrosandboxException(
                $"`{msbPath} ls` failed (exit code {process.ExitCode}) while migrating the state catalog in {home}: {errorText.Trim()}");
        }
    }
}
