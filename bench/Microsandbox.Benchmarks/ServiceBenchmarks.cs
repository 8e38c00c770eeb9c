using System.Net;
using System.Net.Sockets;
using System.Text;
using BenchmarkDotNet.Attributes;

namespace Microsandbox.Benchmarks;

/// <summary>
/// A service from its image to its first answer: Redis (the image <c>./build.sh Images</c> builds) created with its
/// own command as main process, ready on its log line, then a PING over the published port — against a plain
/// built-in sandbox's create → first exec in the same run, so the ratio is what the service costs on top of a VM.
/// Cold starts only: ready-state snapshots (issue 16) do not exist yet.
/// </summary>
[Config(typeof(VmBootJobConfig))]
public class ServiceBenchmarks
{
    private readonly string _work = Directory.CreateTempSubdirectory("msbsv-").FullName;
    private SandboxOptions _options = null!;
    private string _redisImage = null!;
    private IAsyncDisposable? _booted;

    [GlobalSetup]
    public void Setup()
    {
        _redisImage = Environment.GetEnvironmentVariable("MSB_TEST_IMAGES") is { Length: > 0 } dir
            ? Path.Combine(dir, "redis")
            : Path.Combine(FindRepository(), "artifacts", "images", "redis");
        if (!File.Exists(Path.Combine(_redisImage, "index.json")))
            throw new InvalidOperationException($"no Redis image at {_redisImage}: run ./build.sh Images");
        _options = new SandboxOptions { HomeDirectory = Path.Combine(_work, "home") };
        // The image's root disk is built once per image; a service's later starts reuse it, so it is not measured.
        var first = Sandbox.CreateAsync(Redis(), _options).GetAwaiter().GetResult();
        first.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_work, recursive: true);

    [IterationCleanup]
    public void TearDown()
    {
        _booted?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _booted = null;
    }

    private SandboxBuilder Redis() =>
        new SandboxBuilder("bench-redis-" + Guid.NewGuid().ToString("N")[..8]).Image(_redisImage).Ephemeral()
            .PublishExposedPorts().MainProcess().WaitFor(Wait.ForLogMessage("Ready to accept connections"));

    [Benchmark(Baseline = true, Description = "built-in sandbox: create → first exec")]
    public async Task PlainSandbox()
    {
        var sb = await Sandbox.CreateAsync(new SandboxBuilder("bench-" + Guid.NewGuid().ToString("N")[..8]).Image(BuiltinImages.Busybox).Ephemeral().DisableNetwork(), _options);
        _booted = sb;
        if ((await sb.ExecAsync("echo", ["x"])).Stdout != "x\n") throw new InvalidOperationException("exec failed");
    }

    [Benchmark(Description = "Redis from its image: create → ready → PING answered from the host")]
    public async Task RedisCold()
    {
        var sb = await Sandbox.CreateAsync(Redis(), _options);
        _booted = sb;
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, sb.GetMappedPort(6379));
        var stream = client.GetStream();
        await stream.WriteAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray());
        var buffer = new byte[16];
        int n = await stream.ReadAsync(buffer);
        if (Encoding.ASCII.GetString(buffer, 0, n) != "+PONG\r\n") throw new InvalidOperationException("no PONG");
    }

    private static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Microsandbox.sln"))) return dir.FullName;
        throw new InvalidOperationException("run from within the repository, or set MSB_TEST_IMAGES");
    }
}
