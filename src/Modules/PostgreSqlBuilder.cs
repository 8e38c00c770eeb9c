namespace Microsandbox.Modules;

/// <summary>
/// A PostgreSQL server in a microVM, as Testcontainers' PostgreSql module runs one: the image's entrypoint initialises
/// the cluster from <c>POSTGRES_USER</c>/<c>POSTGRES_PASSWORD</c>/<c>POSTGRES_DB</c>, port 5432 is published on a free
/// host port, and it is ready when <c>pg_isready</c> reaches the final server over TCP. 1 GiB of memory and a 180 s
/// wait by default: <c>initdb</c> under software emulation takes about half a minute. On the QEMU engine that is paid
/// once per shape: the first server is saved once ready, and later ones resume from it with PostgreSQL running and an
/// untouched database (a ready-state template; <c>WithSandbox(b =&gt; b.ReadyStateSnapshot(false))</c> turns it off).
/// Immutable.
/// </summary>
public sealed class PostgreSqlBuilder : IServiceModule<PostgreSqlSandbox>
{
    /// <summary>The image used unless <see cref="WithImage"/> names another (Docker Hub's official image).</summary>
    public const string DefaultImage = "postgres:15";

    /// <summary>The port PostgreSQL listens on in the guest.</summary>
    public const ushort PostgreSqlPort = 5432;

    private readonly Settings _settings;

    private sealed record Settings(string Image, string? Name, string Database, string Username, string Password, Func<SandboxBuilder, SandboxBuilder>? Configure);

    /// <summary>A builder for <see cref="DefaultImage"/>, database, user and password <c>postgres</c>.</summary>
    public PostgreSqlBuilder()
        : this(new Settings(DefaultImage, null, "postgres", "postgres", "postgres", null))
    {
    }

    private PostgreSqlBuilder(Settings settings) => _settings = settings;

    /// <summary>Another image: a reference (<c>postgres:16</c>) or a local OCI layout or archive path.</summary>
    public PostgreSqlBuilder WithImage(string image) => new(_settings with { Image = NotEmpty(image, nameof(image)) });

    /// <summary>The sandbox's name (default: <c>postgres-</c> and a random suffix).</summary>
    public PostgreSqlBuilder WithName(string name) => new(_settings with { Name = NotEmpty(name, nameof(name)) });

    /// <summary>The database created on first start (<c>POSTGRES_DB</c>).</summary>
    public PostgreSqlBuilder WithDatabase(string database) => new(_settings with { Database = NotEmpty(database, nameof(database)) });

    /// <summary>The superuser created on first start (<c>POSTGRES_USER</c>).</summary>
    public PostgreSqlBuilder WithUsername(string username) => new(_settings with { Username = NotEmpty(username, nameof(username)) });

    /// <summary>The superuser's password (<c>POSTGRES_PASSWORD</c>).</summary>
    public PostgreSqlBuilder WithPassword(string password) => new(_settings with { Password = NotEmpty(password, nameof(password)) });

    /// <summary>Further sandbox settings (memory, init scripts through mounts…), applied after the module's own.</summary>
    public PostgreSqlBuilder WithSandbox(Func<SandboxBuilder, SandboxBuilder> configure) =>
        new(_settings with { Configure = RedisBuilder.Chain(_settings.Configure, configure ?? throw new ArgumentNullException(nameof(configure))) });

    /// <summary>
    /// Adds the module's settings (image, memory, published port, <c>POSTGRES_*</c>, main process, wait, then
    /// <see cref="WithSandbox"/>'s) to a builder that already has its name: what fixtures and other front ends build on.
    /// </summary>
    public SandboxBuilder ApplyTo(SandboxBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configured = builder
            .Image(_settings.Image)
            .Memory(1024)
            .Port(0, PostgreSqlPort)
            .Env("POSTGRES_DB", _settings.Database)
            .Env("POSTGRES_USER", _settings.Username)
            .Env("POSTGRES_PASSWORD", _settings.Password)
            .MainProcess()
            .WaitFor(Wait.ForCommand("pg_isready", "--host", "127.0.0.1", "--port", "5432", "--username", _settings.Username, "--dbname", _settings.Database)
                .WithTimeout(TimeSpan.FromSeconds(180)))
            .ReadyStateSnapshotWhenSupported();
        return _settings.Configure is null ? configured : _settings.Configure(configured);
    }

    /// <summary>The PostgreSQL handle (connection string, scripts) for a sandbox booted from <see cref="ApplyTo"/>'s settings.</summary>
    public PostgreSqlSandbox Attach(Sandbox sandbox) =>
        new(sandbox ?? throw new ArgumentNullException(nameof(sandbox)), _settings.Database, _settings.Username, _settings.Password);

    /// <summary>Boots the server (an ephemeral sandbox) and returns once it accepts connections.</summary>
    public async Task<PostgreSqlSandbox> StartAsync(SandboxOptions? options = null, CancellationToken cancellationToken = default) =>
        Attach(await Sandbox.CreateAsync(ApplyTo(new SandboxBuilder(_settings.Name ?? ServiceModule.UniqueName("postgres")).Ephemeral()), options, cancellationToken).ConfigureAwait(false));

    private static string NotEmpty(string value, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, name);
        return value;
    }
}
