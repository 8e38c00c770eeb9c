using Microsandbox.Engines;
#if XUNIT_V2
using Xunit.Abstractions;
using LifetimeTask = System.Threading.Tasks.Task;
#else
using LifetimeTask = System.Threading.Tasks.ValueTask;
#endif

namespace Microsandbox.Xunit;

/// <summary>
/// A base class giving each test its own fresh sandbox, taken from a pool booted ahead in the background (see
/// <see cref="SandboxPool"/>), so per-test isolation costs close to a shared fixture. Override
/// <see cref="DefinitionName"/> or <see cref="Configure"/> to choose what boots (both must not depend on instance
/// state: one pool serves the whole class). The sandbox's logs go to the test's output (under xUnit v2, to the
/// <c>ITestOutputHelper</c> the test class passes to the constructor).
/// </summary>
public abstract class SandboxTest : global::Xunit.IAsyncLifetime
{
    private SandboxLease? _lease;
    private SandboxPool? _pool;
#if XUNIT_V2
    private readonly ITestOutputHelper? _output;

    /// <summary>Creates the test; pass xUnit's <paramref name="output"/> to receive the sandbox's logs.</summary>
    protected SandboxTest(ITestOutputHelper? output = null) => _output = output;
#endif

    /// <summary>The registered definition (<c>AddSandbox(name, …)</c>) to start from; null for the defaults alone.</summary>
    protected virtual string? DefinitionName => null;

    /// <summary>Adds the class's settings to a builder that has a unique name, the default image and the definition.</summary>
    protected virtual SandboxBuilder Configure(SandboxBuilder builder) => builder;

    /// <summary>This test's sandbox.</summary>
    protected Sandbox Sandbox => _lease?.Sandbox ?? throw new InvalidOperationException("the sandbox is available once xUnit has called InitializeAsync");

    /// <summary>How this test got its sandbox (pre-booted or not, how long it waited).</summary>
    protected SandboxLease Lease => _lease ?? throw new InvalidOperationException("the sandbox is available once xUnit has called InitializeAsync");

    /// <summary>The factory whose pool serves this class. Default: the one of the test assembly's services.</summary>
    protected virtual SandboxFactory ResolveFactory() => MicrosandboxServices.FactoryFor(GetType());

    /// <summary>The pool this class's sandboxes come from.</summary>
    protected SandboxPool Pool => _pool ?? throw new InvalidOperationException("the pool is available once xUnit has called InitializeAsync");

    /// <summary>Takes a sandbox from the class's pool; skips the test when no engine can run here.</summary>
    public virtual async LifetimeTask InitializeAsync()
    {
        var factory = ResolveFactory();
        if (factory.EngineUnavailableReason is { } why)
        {
            if (SandboxEngineAvailability.RequiredFailure(factory, why) is { } required) throw required;
            TestFramework.SkipCurrentTest("no sandbox engine can run on this host: " + why);
        }
        _pool = factory.GetPool(GetType().FullName + "|" + DefinitionName, DefinitionName, Configure);
        _lease = await _pool.AcquireAsync(TestFramework.CurrentTestCancellation);
#if XUNIT_V2
        var output = _output;
        if (output is not null) _lease.RouteLogsTo(output.WriteLine);
#else
        var output = global::Xunit.TestContext.Current.TestOutputHelper;
#endif
        output?.WriteLine(
            $"sandbox {_lease.Sandbox.Name}: {(_lease.WasPrebooted ? "booted ahead, ready when asked" : "not ready when asked")}, waited {_lease.Waited.TotalMilliseconds:0} ms");
    }

    /// <summary>Hands the sandbox back; the pool stops and removes it off the test's path.</summary>
    public virtual async LifetimeTask DisposeAsync()
    {
        if (_lease is not null) await _lease.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
