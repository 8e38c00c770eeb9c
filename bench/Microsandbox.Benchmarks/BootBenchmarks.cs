using BenchmarkDotNet.Attributes;
using Microsandbox.Benchmarks.Raw;
using Microsandbox.Engines.Qemu;

namespace Microsandbox.Benchmarks;

/// <summary>
/// Boot to first command reply: the whole C# stack (builder → sandbox process → QEMU → our agent → relay → client →
/// exec) against the raw baseline (hand-written QEMU command, same kernel and modules, trivial init) in the same run.
/// Each invocation is one full boot, so few iterations.
/// </summary>
[Config(typeof(VmBootJobConfig))]
public class BootBenchmarks
{
    private readonly string _work = Directory.CreateTempSubdirectory("msbb-").FullName;
    private QemuAssets _assets = null!;
    private string _rawInitrd = null!;
    private SandboxOptions _options = null!;
    private SandboxOptions _snapshotOptions = null!;

    [GlobalSetup]
    public void Setup()
    {
        _assets = QemuAssets.Locate();
        _rawInitrd = RawGuest.BuildInitrd(_assets, _work);
        _options = new SandboxOptions { HomeDirectory = Path.Combine(_work, "home") };
        // The resume path measures a home whose template for this shape is already saved (as after a first run).
        _snapshotOptions = new SandboxOptions { HomeDirectory = Path.Combine(_work, "home-snap"), BootFromSnapshot = true };
        var first = Sandbox.CreateAsync(Builder(), _snapshotOptions).GetAwaiter().GetResult();
        first.DisposeAsync().AsTask().GetAwaiter().GetResult();
        var templates = Path.Combine(_work, "home-snap", "cache", "qemu-templates");
        for (int i = 0; i < 1200 && !(Directory.Exists(templates) && Directory.EnumerateFiles(templates, "state", SearchOption.AllDirectories).Any(f => !f.Contains(".tmp", StringComparison.Ordinal))); i++)
            Thread.Sleep(50);
    }

    private static SandboxBuilder Builder() =>
        new SandboxBuilder("bench-" + Guid.NewGuid().ToString("N")[..8]).Image(BuiltinImages.Busybox).Ephemeral().DisableNetwork();

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_work, recursive: true);

    private IAsyncDisposable? _booted;

    // Teardown is not part of "boot to first reply": each booted guest is disposed after its iteration.
    [IterationCleanup]
    public void TearDown()
    {
        _booted?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _booted = null;
    }

    [Benchmark(Baseline = true, Description = "raw QEMU boot → first reply")]
    public async Task RawBoot()
    {
        var guest = await RawGuest.BootAsync(_assets, _rawInitrd, _work);
        _booted = guest;
        if (await guest.EchoAsync("x") != "x") throw new InvalidOperationException("raw echo failed");
    }

    [Benchmark(Description = "Sandbox.CreateAsync → first exec")]
    public async Task SdkBoot()
    {
        var sb = await Sandbox.CreateAsync(Builder(), _options);
        _booted = sb;
        var r = await sb.ExecAsync("echo", ["x"]);
        if (r.Stdout != "x\n") throw new InvalidOperationException("exec failed");
    }

    // Not like for like with the raw boot (which has no snapshot): the product's fast path, shown on the same scale.
    [Benchmark(Description = "Sandbox.CreateAsync → first exec, resumed from a snapshot template")]
    public async Task SdkResume()
    {
        var sb = await Sandbox.CreateAsync(Builder(), _snapshotOptions);
        _booted = sb;
        var r = await sb.ExecAsync("echo", ["x"]);
        if (r.Stdout != "x\n") throw new InvalidOperationException("exec failed");
    }
}
