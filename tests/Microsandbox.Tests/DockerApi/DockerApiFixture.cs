using Microsandbox.DockerApi;
using Microsandbox.Images;
using Microsandbox.Tests.Images;
using Microsandbox.Tests.Services;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.DockerApi;

/// <summary>
/// One Docker API server for the Docker API tests, in-process on a socket of its own, and a real registry on
/// 127.0.0.1 (Debian's docker-registry) holding the service images <c>./build.sh Images</c> built from Debian's
/// packages: <c>redis:7</c> and <c>postgres:15</c>. Clients (Testcontainers, Docker.DotNet) pull them through the
/// server as they would from Docker Hub.
/// </summary>
public sealed class DockerApiFixture : IAsyncLifetime
{
    private LocalRegistry? _registry;
    private DockerApiServer? _server;
    private Exception? _startFailure;

    /// <summary>The server's and its sandboxes' log (a file in the run's state directory).</summary>
    public FileLoggerFactory Log { get; } = new(Path.Combine(VmEnvironment.Home, "docker-api.log"));

    /// <summary>The running server; the test is skipped (failed on CI) when no VM can boot here.</summary>
    public DockerApiServer Server => Ready(_server);

    /// <summary>The registry, as <c>127.0.0.1:PORT</c>.</summary>
    public string Registry => Ready(_registry).Host;

    /// <summary>The Redis image's reference in the registry.</summary>
    public string RedisImage => $"{Registry}/redis:7";

    /// <summary>The PostgreSQL image's reference in the registry.</summary>
    public string PostgresImage => $"{Registry}/postgres:15";

    public async ValueTask InitializeAsync()
    {
        try
        {
            Engines.Qemu.QemuAssets.Locate();
            if (Engines.Qemu.QemuAssets.FindOnPath("docker-registry") is null) return;
            _registry = await LocalRegistry.StartAsync();
            foreach (var (name, tag) in new[] { ("redis", "7"), ("postgres", "15") })
            {
                var layout = Path.Combine(ServiceImages.Directory, name);
                if (File.Exists(Path.Combine(layout, "index.json")))
                {
                    using var client = new RegistryClient();
                    await client.PushLayoutAsync(layout, ImageReference.Parse($"{_registry.Host}/{name}:{tag}"));
                }
            }
            var socketDirectory = Directory.CreateTempSubdirectory("msbd-").FullName;
            _server = await DockerApiServer.StartAsync(new DockerApiServerOptions
            {
                SocketPath = Path.Combine(socketDirectory, "docker.sock"),
                Sandbox = VmEnvironment.Options() with { LoggerFactory = Log },
                // Containers of one shape (the Redis module's) resume from the first one's ready state.
                ReadyStateSnapshots = true,
            });
        }
        catch (Exception e) when (e is MicrosandboxException or IOException or InvalidOperationException or HttpRequestException)
        {
            _startFailure = e;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_registry is not null) await _registry.DisposeAsync();
    }

    private T Ready<T>(T? value) where T : class
    {
        VmEnvironment.RequireVm();
        LocalRegistry.Require();
        if (_startFailure is not null) throw new InvalidOperationException("the Docker API fixture failed to start: " + _startFailure.Message, _startFailure);
        return value ?? throw new InvalidOperationException("the Docker API fixture did not start");
    }
}

[CollectionDefinition(Name)]
public sealed class DockerApiCollection : ICollectionFixture<DockerApiFixture>
{
    public const string Name = "docker api";
}
