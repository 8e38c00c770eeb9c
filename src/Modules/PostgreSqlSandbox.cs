using System.Globalization;

namespace Microsandbox.Modules;

/// <summary>A running PostgreSQL server; disposing it stops and removes its VM.</summary>
public sealed class PostgreSqlSandbox : IServiceSandbox
{
    internal PostgreSqlSandbox(Sandbox sandbox, string database, string username, string password)
    {
        Sandbox = sandbox;
        Database = database;
        Username = username;
        Password = password;
    }

    /// <summary>The sandbox the server runs in (exec, logs, files).</summary>
    public Sandbox Sandbox { get; }

    /// <summary>The database created on first start.</summary>
    public string Database { get; }

    /// <summary>The superuser.</summary>
    public string Username { get; }

    /// <summary>The superuser's password.</summary>
    public string Password { get; }

    /// <summary>An Npgsql connection string for the published port: <c>Host=…;Port=…;Database=…;Username=…;Password=…</c>.</summary>
    public string GetConnectionString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"Host={ConnectableHost.For(Sandbox.GetMappedHost(PostgreSqlBuilder.PostgreSqlPort))};Port={Sandbox.GetMappedPort(PostgreSqlBuilder.PostgreSqlPort)};Database={Quote(Database)};Username={Quote(Username)};Password={Quote(Password)}");

    /// <summary>
    /// Runs SQL in the guest with <c>psql</c> (stops at the first error); the script travels on stdin, never through a
    /// command line.
    /// </summary>
    public Task<ExecOutput> ExecScriptAsync(string sql, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var command = new ExecCommand("psql")
        {
            Arguments = ["--username", Username, "--dbname", Database, "-v", "ON_ERROR_STOP=1", "--no-psqlrc", "--quiet", "-f", "-"],
            User = "postgres",
            Stdin = System.Text.Encoding.UTF8.GetBytes(sql),
        };
        return Sandbox.ExecAsync(command, cancellationToken);
    }

    // A value with ';', '=' or quotes must be quoted in a connection string; double the quote to escape it.
    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(";='\" ") >= 0 ? "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'" : value;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Sandbox.DisposeAsync();
}
