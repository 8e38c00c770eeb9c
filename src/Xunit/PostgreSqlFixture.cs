using Microsandbox.Modules;
using Microsoft.Extensions.DependencyInjection;
#if XUNIT_V2
using Xunit.Abstractions;
#else
using Xunit.Sdk;
#endif

namespace Microsandbox.Xunit;

/// <summary>
/// A PostgreSQL server shared by a class's tests (<c>IClassFixture&lt;PostgreSqlFixture&gt;</c>), booted by
/// <see cref="PostgreSqlBuilder"/> through the test assembly's factory. Settings come from a
/// <see cref="PostgreSqlBuilder"/> registered in the assembly's services, else the defaults; override
/// <see cref="PostgreSql"/> per fixture. The server's own output goes to the fixture's diagnostic messages.
/// </summary>
public class PostgreSqlFixture : SandboxFixture
{
    private PostgreSqlBuilder? _module;

    /// <summary>Creates the fixture.</summary>
    public PostgreSqlFixture(IMessageSink? diagnosticMessageSink = null) : base(diagnosticMessageSink) { }

    /// <summary>The module settings this fixture boots; the registered (or default) builder unless overridden.</summary>
    protected virtual PostgreSqlBuilder PostgreSql(PostgreSqlBuilder registered) => registered;

    /// <inheritdoc />
    protected override SandboxBuilder Configure(SandboxBuilder builder) => Module.ApplyTo(builder);

    /// <summary>The running server (connection string, scripts). Throws or skips as <see cref="SandboxFixture.Sandbox"/> does.</summary>
    public PostgreSqlSandbox Server => Module.Attach(Sandbox);

    /// <summary>An Npgsql connection string for the server.</summary>
    public string GetConnectionString() => Server.GetConnectionString();

    private PostgreSqlBuilder Module => _module ??= PostgreSql(MicrosandboxServices.For(ServicesAnchor.Assembly).GetService<PostgreSqlBuilder>() ?? new PostgreSqlBuilder());
}
