using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Microsandbox.Benchmarks;

/// <summary>
/// VM benchmarks run in-process (the SDK must find the sandbox process next to this assembly, which BenchmarkDotNet's
/// generated out-of-process project would not have) with few iterations: each one boots or talks to a real guest.
/// </summary>
public sealed class VmJobConfig : ManualConfig
{
    public VmJobConfig()
    {
        AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(15).WithId("vm"));
    }
}

/// <summary>Boot benchmarks: one cold invocation per iteration.</summary>
public sealed class VmBootJobConfig : ManualConfig
{
    public VmBootJobConfig()
    {
        AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithStrategy(RunStrategy.ColdStart)
            .WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(8).WithId("boot"));
    }
}

/// <summary>
/// As <see cref="VmBootJobConfig"/> with fewer iterations: a cold PostgreSQL start is half a minute under emulation,
/// and the services' cold and ready-state figures are compared side by side in one run.
/// </summary>
public sealed class ServiceJobConfig : ManualConfig
{
    public ServiceJobConfig()
    {
        AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithStrategy(RunStrategy.ColdStart)
            .WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(4).WithId("service"));
    }
}
