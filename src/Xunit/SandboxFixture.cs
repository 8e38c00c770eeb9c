using Microsandbox.Engines;
#if XUNIT_V2
using Xunit.Abstractions;
using LifetimeTask = System.Threading.Tasks.Task;
#else
using Xunit.Sdk;
using LifetimeTask = System.Threading.Tasks.ValueTask;
#endif

namespace Microsandbox.Xunit;

/// <summary>
/// One booted sandbox shared by the tests of a class (<c>IClassFixture</c>), a collection (<c>ICollectionFixture</c>)
/// or the whole assembly (<c>[assembly: AssemblyFixture(…)]</c>, xUnit v3). Subclass it and override <see cref="Configure"/>
/// (or <see cref="DefinitionName"/>), or use <see cref="SandboxFixture{TDefinition}"/>.
/// <para>
/// A start failure does not fail the fixture: it is kept, and every test that reads <see cref="Sandbox"/> fails with
/// the real cause and the guest's logs. When no engine can run here, reading <see cref="Sandbox"/> skips the test
/// with the engine's reason (xUnit v3; under v2, whose tests cannot skip themselves once running, mark them
/// <see cref="SandboxFactAttribute"/> and they are skipped before they start). Boot and stop logs go to diagnostic
/// messages (the <see cref="IMessageSink"/> given to the constructor, else the test context's).
/// </para>
/// </summary>
public class SandboxFixture : global::Xunit.IAsyncLifetime
{
    private readonly LogRouter _logs;
    private readonly CancellationTokenSource _logFollow = new();
    private Sandbox? _sandbox;
    private Exception? _startFailure;
    private string? _skipReason;

    /// <summary>Creates the fixture; xUnit passes <paramref name="diagnosticMessageSink"/> to fixtures that ask for it.</summary>
    public SandboxFixture(IMessageSink? diagnosticMessageSink = null)
    {
        DiagnosticMessageSink = diagnosticMessageSink;
        _logs = new LogRouter(TestFramework.Diagnostics(diagnosticMessageSink), Microsoft.Extensions.Logging.LogLevel.Information);
    }

    /// <summary>Where this fixture's boot and stop logs go.</summary>
    protected IMessageSink? DiagnosticMessageSink { get; }

    /// <summary>The registered definition (<c>AddSandbox(name, …)</c>) to start from; null for the defaults alone.</summary>
    protected virtual string? DefinitionName => null;

    /// <summary>Adds this fixture's settings to a builder that has a unique name, the default image and the definition.</summary>
    protected virtual SandboxBuilder Configure(SandboxBuilder builder) => builder;

    /// <summary>The type whose assembly's services configure this fixture. Default: the fixture's own type.</summary>
    protected virtual Type ServicesAnchor => GetType();

    /// <summary>The factory that boots this fixture's sandbox. Default: the one of <see cref="ServicesAnchor"/>'s assembly.</summary>
    protected virtual SandboxFactory ResolveFactory() => MicrosandboxServices.FactoryFor(ServicesAnchor);

    /// <summary>True when the sandbox booted.</summary>
    public bool IsStarted => _sandbox is not null;

    /// <summary>
    /// The booted sandbox. Throws the start failure (<see cref="SandboxFixtureException"/> with guest logs) in the calling
    /// test, or skips it when no engine can run here.
    /// </summary>
    public Sandbox Sandbox
    {
        get
        {
            if (_skipReason is not null) TestFramework.SkipCurrentTest(_skipReason);
            if (_startFailure is not null) throw Rethrowable(_startFailure);
            return _sandbox ?? throw new InvalidOperationException("the sandbox fixture has not been initialised (xUnit calls InitializeAsync before the tests)");
        }
    }

    /// <summary>Boots the sandbox; a failure is kept for the tests rather than thrown.</summary>
    public virtual async LifetimeTask InitializeAsync()
    {
        SandboxFactory factory;
        try
        {
            factory = ResolveFactory();
        }
        catch (MicrosandboxException e)
        {
            _startFailure = e;
            return;
        }
        if (factory.EngineUnavailableReason is { } why)
        {
            if (SandboxEngineAvailability.RequiredFailure(factory, why) is { } required)
            {
                // CI (or MSB_REQUIRE_ENGINE=1): every test of this fixture fails with the reason instead of skipping.
                _startFailure = required;
                _logs.Target(required.Message);
                return;
            }
            _skipReason = "no sandbox engine can run on this host: " + why;
            _logs.Target(_skipReason);
            return;
        }
        try
        {
            _sandbox = await factory.CreateAsync(DefinitionName, Configure, _logs, TestFramework.CurrentTestCancellation);
            if (_sandbox.HasMainProcess) _ = RouteMainProcessLogsAsync(_sandbox);
            await OnStartedAsync(_sandbox);
        }
        catch (Exception e) when (e is MicrosandboxException or IOException or InvalidOperationException)
        {
            _startFailure = e;
            _logs.Target($"{GetType().Name}: {e.Message}");
        }
    }

    // A service's own output goes where the fixture's boot logs go, line by line, until the fixture stops it.
    private async Task RouteMainProcessLogsAsync(Sandbox sandbox)
    {
        try
        {
            await foreach (var line in sandbox.FollowLogsAsync(cancellationToken: _logFollow.Token))
                _logs.Target($"[{sandbox.Name}] {line.Text}");
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Runs once after the sandbox booted (seed data, start services); a failure counts as a start failure.</summary>
    protected virtual ValueTask OnStartedAsync(Sandbox sandbox) => ValueTask.CompletedTask;

    /// <summary>Stops the sandbox (and removes it: test sandboxes are ephemeral unless the options keep them).</summary>
    public virtual async LifetimeTask DisposeAsync()
    {
        await _logFollow.CancelAsync();
        if (_sandbox is not null) await _sandbox.DisposeAsync();
        _logFollow.Dispose();
        GC.SuppressFinalize(this);
    }

    // The same exception object is rethrown by many tests; a fresh wrapper keeps each test's stack trace its own.
    private static Exception Rethrowable(Exception failure) => failure switch
    {
        SandboxFixtureException f => new SandboxFixtureException(f.SandboxName, f.GuestLogs, f.InnerException ?? f),
        Engines.EngineUnavailableException u => new Engines.EngineUnavailableException(u.Engine, u.Reason),
        _ => new InvalidConfigException(failure.Message),
    };
}

/// <summary>
/// A ready-made fixture for a definition type: <c>IClassFixture&lt;SandboxFixture&lt;DefaultSandbox&gt;&gt;</c>, or
/// <c>SandboxFixture&lt;Db&gt;</c> with <c>class Db : ISandboxDefinition { public string? DefinitionName => "db"; }</c>.
/// </summary>
public class SandboxFixture<TDefinition> : SandboxFixture where TDefinition : ISandboxDefinition, new()
{
    private static readonly TDefinition Definition = new();

    /// <summary>Creates the fixture.</summary>
    public SandboxFixture(IMessageSink? diagnosticMessageSink = null) : base(diagnosticMessageSink) { }

    /// <inheritdoc />
    protected override string? DefinitionName => Definition.DefinitionName;

    /// <inheritdoc />
    protected override SandboxBuilder Configure(SandboxBuilder builder) => Definition.Configure(builder);

    /// <inheritdoc />
    protected override Type ServicesAnchor => typeof(TDefinition);
}
