using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsandbox.Xunit;
using Microsoft.Extensions.DependencyInjection;

namespace Microsandbox.Benchmarks;

/// <summary>
/// What per-test isolation costs: a "test class" of <see cref="Tests"/> tests, each running a command and then holding
/// the guest for <see cref="TestMs"/> ms (a test's own work), run (a) against one shared fixture sandbox — the
/// baseline — and (b) with a fresh sandbox per test from <see cref="SandboxPool"/> (booted ahead, disposed off the
/// test's path). Both include their first boot and exclude the teardown after the last test; each invocation is a
/// whole class run, so few iterations.
/// </summary>
[Config(typeof(XunitSuiteJobConfig))]
public class XunitPoolBenchmarks
{
    private readonly string _home = Directory.CreateTempSubdirectory("msbp-").FullName;
    private ServiceProvider _services = null!;
    private SandboxFactory _factory = null!;
    private Sandbox? _shared;

    /// <summary>Tests in the class.</summary>
    [Params(4)]
    public int Tests { get; set; }

    /// <summary>How long each test works with its guest after the first command (guest-side sleep).</summary>
    [Params(0, 100, 250, 500, 1000)]
    public int TestMs { get; set; }

    /// <summary>Sandboxes resume a snapshot template of their shape (saved once, in <see cref="GlobalSetup"/>) instead of booting.</summary>
    [Params(false, true)]
    public bool Snapshots { get; set; }

    // Templates outlive a test run (they are kept under the state directory), so the steady state is a run that finds
    // its shape's template already saved; the one-off first boot that saves it is not part of a class's cost.
    [GlobalSetup]
    public void SaveTemplate()
    {
        if (!Snapshots) return;
        Setup();
        var warm = _factory.CreateAsync(null, b => b.DisableNetwork(), null).GetAwaiter().GetResult();
        warm.DisposeAsync().AsTask().GetAwaiter().GetResult();
        var templates = Path.Combine(_home, "cache", "qemu-templates");
        for (int i = 0; i < 1200 && !(Directory.Exists(templates) && Directory.GetFiles(templates, "state", SearchOption.AllDirectories).Any(f => !f.Contains(".tmp", StringComparison.Ordinal))); i++)
            Thread.Sleep(50);
        Cleanup();
    }

    [IterationSetup]
    public void Setup()
    {
        _services = MicrosandboxServices.BuildProvider(s => s.AddMicrosandbox(o =>
        {
            o.HomeDirectory = _home;
            o.NamePrefix = "bench";
            o.PoolSize = 1;
            o.BootFromSnapshot = Snapshots;
        }));
        _factory = _services.GetRequiredService<SandboxFactory>();
    }

    [IterationCleanup]
    public void Cleanup()
    {
        _shared?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _shared = null;
        _services.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void RemoveHome() => Directory.Delete(_home, recursive: true);

    [Benchmark(Baseline = true, Description = "shared fixture: 1 sandbox for the class")]
    public async Task SharedFixture()
    {
        _shared = await _factory.CreateAsync(null, b => b.DisableNetwork(), null);
        for (int i = 0; i < Tests; i++) await RunTestAsync(_shared);
        // As for the pool, teardown after the last test is not counted (IterationCleanup).
    }

    [Benchmark(Description = "per-test: fresh pooled sandbox per test")]
    public async Task PooledPerTest()
    {
        var pool = _factory.GetPool("bench", null, b => b.DisableNetwork());
        for (int i = 0; i < Tests; i++)
        {
            await using var lease = await pool.AcquireAsync();
            Console.WriteLine($"// test {i}: {(lease.WasPrebooted ? "sandbox ready when asked" : "waited for its boot")}, waited {lease.Waited.TotalMilliseconds:0} ms");
            await RunTestAsync(lease.Sandbox);
        }
        // The class is done when its last test is; the pool's leftovers are stopped in IterationCleanup.
    }

    private async Task RunTestAsync(Sandbox sandbox)
    {
        var script = TestMs == 0 ? "echo ok" : $"echo ok; sleep {TestMs / 1000.0:0.###}";
        var result = await sandbox.ShellAsync(script);
        if (result.Stdout != "ok\n") throw new InvalidOperationException("the test's command failed: " + result.Stderr);
    }
}

/// <summary>One cold invocation per iteration, in-process (the SDK finds the sandbox process next to this assembly).</summary>
public sealed class XunitSuiteJobConfig : ManualConfig
{
    public XunitSuiteJobConfig()
    {
        AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithStrategy(RunStrategy.ColdStart)
            .WithLaunchCount(1).WithWarmupCount(0).WithIterationCount(3).WithId("suite"));
    }
}
