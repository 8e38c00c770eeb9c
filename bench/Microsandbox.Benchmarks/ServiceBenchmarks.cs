using System.Net;
using System.Net.Sockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsandbox.Modules;
using Npgsql;

namespace Microsandbox.Benchmarks;

/// <summary>
/// A service from create to its first answered client query, cold and resumed from its ready-state template, side by
/// side in one run: Redis (a PING over the published port) and PostgreSQL (Npgsql opens a connection and runs
/// <c>SELECT 1</c>), both from the images <c>./build.sh Images</c> builds; a plain built-in sandbox's create → first
/// exec is the baseline. The setup builds each image's root disk and saves the ready-state templates, which later
/// starts reuse, so neither is measured.
/// </summary>
[Config(typeof(ServiceJobConfig))]
public class ServiceBenchmarks
{
    private readonly string _work = Directory.CreateTempSubdirectory("msbsv-").FullName;
    private SandboxOptions _options = null!;
    private string _images = null!;
    private IAsyncDisposable? _booted;

    [GlobalSetup]
    public void Setup()
    {
        _images = Environment.GetEnvironmentVariable("MSB_TEST_IMAGES") is { Length: > 0 } dir ? dir : Path.Combine(FindRepository(), "artifacts", "images");
        foreach (var image in new[] { "redis", "postgres" })
            if (!File.Exists(Path.Combine(_images, image, "index.json")))
                throw new InvalidOperationException($"no {image} image in {_images}: run ./build.sh Images");
        _options = new SandboxOptions { HomeDirectory = Path.Combine(_work, "home"), BootTimeout = TimeSpan.FromSeconds(180) };
        // Root disks once per image; the ready-state templates once per shape (the first ready start saves it).
        Task.Run(async () =>
        {
            await (await Sandbox.CreateAsync(Redis().ReadyStateSnapshot(), _options)).DisposeAsync();
            await (await PostgreSql(ready: true).StartAsync(_options)).DisposeAsync();
        }).GetAwaiter().GetResult();
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
        new SandboxBuilder("bench-redis-" + Guid.NewGuid().ToString("N")[..8]).Image(Path.Combine(_images, "redis")).Ephemeral()
            .PublishExposedPorts().MainProcess().WaitFor(Wait.ForLogMessage("Ready to accept connections"));

    private PostgreSqlBuilder PostgreSql(bool ready) =>
        new PostgreSqlBuilder().WithImage(Path.Combine(_images, "postgres")).WithSandbox(b => b.ReadyStateSnapshot(ready));

    [Benchmark(Baseline = true, Description = "built-in sandbox: create → first exec")]
    public async Task PlainSandbox()
    {
        var sb = await Sandbox.CreateAsync(new SandboxBuilder("bench-" + Guid.NewGuid().ToString("N")[..8]).Image(BuiltinImages.Busybox).Ephemeral().DisableNetwork(), _options);
        _booted = sb;
        if ((await sb.ExecAsync("echo", ["x"])).Stdout != "x\n") throw new InvalidOperationException("exec failed");
    }

    [Benchmark(Description = "Redis, cold: create → ready → PING answered from the host")]
    public Task RedisCold() => RedisAsync(Redis());

    [Benchmark(Description = "Redis, ready-state template: create → PING answered from the host")]
    public Task RedisReady() => RedisAsync(Redis().ReadyStateSnapshot());

    [Benchmark(Description = "PostgreSQL, cold: create → initdb → ready → Npgsql SELECT 1")]
    public Task PostgreSqlCold() => PostgreSqlAsync(ready: false);

    [Benchmark(Description = "PostgreSQL, ready-state template: create → Npgsql SELECT 1")]
    public Task PostgreSqlReady() => PostgreSqlAsync(ready: true);

    private async Task RedisAsync(SandboxBuilder builder)
    {
        var sb = await Sandbox.CreateAsync(builder, _options);
        _booted = sb;
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, sb.GetMappedPort(6379));
        var stream = client.GetStream();
        await stream.WriteAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray());
        var buffer = new byte[16];
        int n = await stream.ReadAsync(buffer);
        if (Encoding.ASCII.GetString(buffer, 0, n) != "+PONG\r\n") throw new InvalidOperationException("no PONG");
    }

    private async Task PostgreSqlAsync(bool ready)
    {
        var pg = await PostgreSql(ready).StartAsync(_options);
        _booted = pg;
        await using var connection = new NpgsqlConnection(pg.GetConnectionString());
        await connection.OpenAsync();
        await using var select = new NpgsqlCommand("SELECT 1", connection);
        if (await select.ExecuteScalarAsync() is not 1) throw new InvalidOperationException("no answer");
    }

    internal static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Microsandbox.sln"))) return dir.FullName;
        throw new InvalidOperationException("run from within the repository, or set MSB_TEST_IMAGES");
    }
}
