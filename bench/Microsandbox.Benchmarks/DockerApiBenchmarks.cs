using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using DotNet.Testcontainers.Configurations;
using Microsandbox.DockerApi;
using Microsandbox.Images;
using Testcontainers.Redis;

namespace Microsandbox.Benchmarks;

/// <summary>
/// A Testcontainers Redis test through the Docker API server: <c>RedisContainer.StartAsync</c> (image inspect, create,
/// start, the module's <c>redis-cli ping</c> wait) to the first command run in it, cold and with a ready-state
/// template, side by side in one run; a plain built-in sandbox's create → first exec is the baseline. The image comes
/// from a registry on 127.0.0.1 (Debian's docker-registry) holding the Redis image <c>./build.sh Images</c> builds; the
/// setup pulls it, builds its root disk and saves the template, so none of those is measured.
/// </summary>
[Config(typeof(ServiceJobConfig))]
public class DockerApiBenchmarks
{
    private readonly string _work = Directory.CreateTempSubdirectory("msbda-").FullName;
    private SandboxOptions _options = null!;
    private Process _registry = null!;
    private DockerApiServer _cold = null!;
    private DockerApiServer _ready = null!;
    private string _image = null!;
    private IAsyncDisposable? _booted;

    [GlobalSetup]
    public void Setup()
    {
        var images = Environment.GetEnvironmentVariable("MSB_TEST_IMAGES") is { Length: > 0 } dir ? dir : Path.Combine(ServiceBenchmarks.FindRepository(), "artifacts", "images");
        var layout = Path.Combine(images, "redis");
        if (!File.Exists(Path.Combine(layout, "index.json"))) throw new InvalidOperationException($"no redis image in {images}: run ./build.sh Images");
        _options = new SandboxOptions { HomeDirectory = Path.Combine(_work, "home"), BootTimeout = TimeSpan.FromSeconds(180) };
        TestcontainersSettings.ResourceReaperEnabled = false;
        Task.Run(async () =>
        {
            var port = StartRegistry();
            _image = $"127.0.0.1:{port}/redis:7";
            using (var client = new RegistryClient()) await client.PushLayoutAsync(layout, ImageReference.Parse(_image));
            _cold = await DockerApiServer.StartAsync(new DockerApiServerOptions { SocketPath = Path.Combine(_work, "cold.sock"), Sandbox = _options });
            _ready = await DockerApiServer.StartAsync(new DockerApiServerOptions { SocketPath = Path.Combine(_work, "ready.sock"), Sandbox = _options, ReadyStateSnapshots = true });
            // Pull, root disk, and the ready-state template: once, before anything is measured.
            await RedisAsync(_cold);
            await RedisAsync(_ready);
            await TearDownAsync();
        }).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Task.Run(async () =>
        {
            await _cold.DisposeAsync();
            await _ready.DisposeAsync();
        }).GetAwaiter().GetResult();
        _registry.Kill();
        _registry.WaitForExit();
        Directory.Delete(_work, recursive: true);
    }

    [IterationCleanup]
    public void TearDown() => TearDownAsync().GetAwaiter().GetResult();

    [Benchmark(Baseline = true, Description = "built-in sandbox: create → first exec")]
    public async Task PlainSandbox()
    {
        var sb = await Sandbox.CreateAsync(new SandboxBuilder("bench-" + Guid.NewGuid().ToString("N")[..8]).Image(BuiltinImages.Busybox).Ephemeral().DisableNetwork(), _options);
        _booted = sb;
        if ((await sb.ExecAsync("echo", ["x"])).Stdout != "x\n") throw new InvalidOperationException("exec failed");
    }

    [Benchmark(Description = "Testcontainers Redis via the Docker API, cold: StartAsync → first exec")]
    public Task TestcontainersRedisCold() => RedisAsync(_cold);

    [Benchmark(Description = "Testcontainers Redis via the Docker API, ready-state template: StartAsync → first exec")]
    public Task TestcontainersRedisReady() => RedisAsync(_ready);

    private async Task RedisAsync(DockerApiServer server)
    {
        var redis = new RedisBuilder(_image).WithDockerEndpoint(server.DockerHost).Build();
        _booted = redis;
        await redis.StartAsync();
        var ping = await redis.ExecAsync(["redis-cli", "ping"]);
        if (ping.Stdout != "PONG\n") throw new InvalidOperationException("no PONG: " + ping.Stdout + ping.Stderr);
    }

    private async Task TearDownAsync()
    {
        if (_booted is { } booted) await booted.DisposeAsync();
        _booted = null;
    }

    private int StartRegistry()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var config = Path.Combine(_work, "registry.yml");
        File.WriteAllText(config, $"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {_work}/registry\nhttp:\n  addr: 127.0.0.1:{port}\n");
        var start = new ProcessStartInfo("docker-registry") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(config);
        _registry = Process.Start(start) ?? throw new InvalidOperationException("docker-registry did not start (Debian package docker-registry)");
        _registry.OutputDataReceived += (_, _) => { };
        _registry.ErrorDataReceived += (_, _) => { };
        _registry.BeginOutputReadLine();
        _registry.BeginErrorReadLine();
        for (int i = 0; i < 200; i++)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return port;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }
        throw new InvalidOperationException("docker-registry did not listen");
    }
}
