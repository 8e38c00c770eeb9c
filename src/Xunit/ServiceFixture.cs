using Microsandbox.Modules;
using Microsoft.Extensions.DependencyInjection;
#if XUNIT_V2
using Xunit.Abstractions;
#else
using Xunit.Sdk;
#endif

namespace Microsandbox.Xunit;

/// <summary>
/// A service module's server shared by a class's tests, booted through the test assembly's factory (its state
/// directory, engine, timeouts, logs). The module's settings come from a <typeparamref name="TModule"/> registered in
/// the assembly's services (<c>services.AddSingleton(new RedisBuilder().WithImage(…))</c>), else its defaults; override
/// <see cref="Module(TModule)"/> to change them per fixture. The server's own output goes to the fixture's diagnostic
/// messages. <see cref="RedisFixture"/> and <see cref="PostgreSqlFixture"/> are the ready-made ones.
/// </summary>
/// <typeparam name="TModule">The module's builder.</typeparam>
/// <typeparam name="TServer">The module's handle.</typeparam>
public abstract class ServiceFixture<TModule, TServer> : SandboxFixture
    where TModule : class, IServiceModule<TServer>, new()
    where TServer : IServiceSandbox
{
    private TModule? _module;

    /// <summary>Creates the fixture.</summary>
    protected ServiceFixture(IMessageSink? diagnosticMessageSink = null) : base(diagnosticMessageSink) { }

    /// <summary>The module settings this fixture boots: the registered (or default) builder unless overridden.</summary>
    protected virtual TModule Module(TModule registered) => registered;

    /// <inheritdoc />
    protected override SandboxBuilder Configure(SandboxBuilder builder) => Settings.ApplyTo(builder);

    /// <summary>The running server. Throws or skips as <see cref="SandboxFixture.Sandbox"/> does.</summary>
    public TServer Server => Settings.Attach(Sandbox);

    /// <summary>What the service's client takes to connect.</summary>
    public string GetConnectionString() => Server.GetConnectionString();

    private TModule Settings => _module ??= Module(MicrosandboxServices.For(ServicesAnchor).GetService<TModule>() ?? new TModule());
}

/// <summary>A Redis server for a class's tests (<c>IClassFixture&lt;RedisFixture&gt;</c>); see <see cref="ServiceFixture{TModule, TServer}"/>.</summary>
public class RedisFixture : ServiceFixture<RedisBuilder, RedisSandbox>
{
    /// <summary>Creates the fixture.</summary>
    public RedisFixture(IMessageSink? diagnosticMessageSink = null) : base(diagnosticMessageSink) { }
}

/// <summary>A PostgreSQL server for a class's tests (<c>IClassFixture&lt;PostgreSqlFixture&gt;</c>); see <see cref="ServiceFixture{TModule, TServer}"/>.</summary>
public class PostgreSqlFixture : ServiceFixture<PostgreSqlBuilder, PostgreSqlSandbox>
{
    /// <summary>Creates the fixture.</summary>
    public PostgreSqlFixture(IMessageSink? diagnosticMessageSink = null) : base(diagnosticMessageSink) { }
}
