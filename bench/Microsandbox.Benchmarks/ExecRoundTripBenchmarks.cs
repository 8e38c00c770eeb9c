using BenchmarkDotNet.Attributes;
using Microsandbox.Benchmarks.Raw;
using Microsandbox.Engines.Qemu;

namespace Microsandbox.Benchmarks;

/// <summary>
/// One command round trip on an already booted guest: <c>Sandbox.ExecAsync("echo")</c> through client, relay and
/// agent (exec request, fork + exec, stdout, exit) against the raw guest answering a line with a forked
/// <c>busybox echo</c> on the same kind of virtio-serial port.
/// </summary>
[Config(typeof(VmJobConfig))]
public class ExecRoundTripBenchmarks
{
    private readonly string _work = Directory.CreateTempSubdirectory("msbe-").FullName;
    private RawGuest _raw = null!;
    private Sandbox _sandbox = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        var assets = QemuAssets.Locate();
        _raw = await RawGuest.BootAsync(assets, RawGuest.BuildInitrd(assets, _work), _work);
        _sandbox = await Sandbox.CreateAsync(
            new SandboxBuilder("bench-" + Guid.NewGuid().ToString("N")[..8]).Image(BuiltinImages.Busybox).Ephemeral().DisableNetwork(),
            new SandboxOptions { HomeDirectory = Path.Combine(_work, "home") });
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _sandbox.DisposeAsync();
        await _raw.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "raw serial echo (fork+exec)")]
    public Task<string?> RawEcho() => _raw.EchoAsync("hello");

    [Benchmark(Description = "Sandbox.ExecAsync(echo)")]
    public Task<ExecOutput> SdkExec() => _sandbox.ExecAsync("echo", ["hello"]);
}
