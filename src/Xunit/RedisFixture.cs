using Microsandbox.Modules;
using Microsoft.Extensions.DependencyInjection;
#if XUNIT_V2
using Xunit.Abstractions;
#else
using Xunit.Sdk;
#endif

namespace Microsandbox.Xunit;

/// <summary>
/// A Redis server shared by a class's tests (<c>IClassFixture&lt;RedisFixture&gt;</c>), booted by
/// <see cref="RedisBuilder"/> through the test assembly's factory (its state directory, engine, timeouts, logs).
/// The module's settings come from a <see cref="RedisBuilder"/> registered in the assembly's services
/// (<c>services.AddSingleton(new RedisBuilder().WithImage(…))</c>), else the defaults; override <see cref="Redis"/> to
/// change them per fixture. The server's own output goes to the fixture's diagnostic messages.
/// </summary>
public class RedisFixture : SandboxFixture
{
    private RedisBuilder? _module;

    /// <summary>Creates the fixture.</summary>
    public RedisFixture(IMessageSink? diagnosticMessageSink = null) : base(diagnosticMessageSink) { }

    /// <summary>The module settings this fixture boots; the registered (or default) builder unless overridden.</summary>
    protected virtual RedisBuilder Redis(RedisBuilder registered) => registered;

    /// <inheritdoc />
    protected override SandboxBuilder Configure(SandboxBuilder builder) => Module.ApplyTo(builder);

    /// <summary>The running server (connection string, redis-cli). Throws or skips as <see cref="SandboxFixture.Sandbox"/> does.</summary>
    public RedisSandbox Server => Module.Attach(Sandbox);

    /// <summary><c>HOST:PORT</c> for StackExchange.Redis or redis-cli.</summary>
    public string GetConnectionString() => Server.GetConnectionString();

    private RedisBuilder Module => _module ??= Redis(MicrosandboxServices.For(ServicesAnchor.Assembly).GetService<RedisBuilder>() ?? new RedisBuilder());
}
