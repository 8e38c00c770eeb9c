using System.Collections.Concurrent;
using Microsandbox.Modules;
using Microsandbox.Tests.Services;
using Microsandbox.Tests.Vm;
using Microsandbox.Xunit;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Sdk;
using Xunit.v3;

namespace Microsandbox.Tests.Xunit;

/// <summary>
/// The module fixtures: DI-configured (the factory's options, a registered module builder), the service reachable
/// through the connection string, and the service's own output routed to the fixture's diagnostic messages.
/// </summary>
public sealed class ModuleFixtureTests
{
    private sealed class CapturingSink : IMessageSink
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is IDiagnosticMessage d) Lines.Enqueue(d.Message);
            return true;
        }
    }

    private sealed class TestRedisFixture(IMessageSink sink, IServiceProvider services) : RedisFixture(sink)
    {
        protected override SandboxFactory ResolveFactory() => services.GetRequiredService<SandboxFactory>();

        // The registered builder (image from DI), given a name prefix by the factory; nothing to change per fixture.
        protected override RedisBuilder Module(RedisBuilder registered) => services.GetRequiredService<RedisBuilder>();
    }

    [Fact]
    public async Task The_redis_fixture_serves_its_connection_string_and_routes_the_servers_output()
    {
        VmEnvironment.RequireVm();
        var services = MicrosandboxServices.BuildProvider(s =>
        {
            s.AddMicrosandbox(o =>
            {
                o.HomeDirectory = VmEnvironment.Home;
                o.NamePrefix = "xredis";
            });
            s.AddSingleton(new RedisBuilder().WithImage(ServiceImages.Path("redis")));
        });
        var sink = new CapturingSink();
        var fixture = new TestRedisFixture(sink, services);
        await fixture.InitializeAsync();
        try
        {
            Assert.True(fixture.IsStarted);
            Assert.StartsWith("xredis-", fixture.Sandbox.Name, StringComparison.Ordinal);
            Assert.Matches(@"^127\.0\.0\.1:\d+$", fixture.GetConnectionString());
            Assert.Equal("PONG\n", (await fixture.Server.ExecCliAsync(["PING"], TestContext.Current.CancellationToken)).Stdout);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            cts.CancelAfter(TimeSpan.FromSeconds(30));
            while (!sink.Lines.Any(l => l.Contains("Ready to accept connections", StringComparison.Ordinal))) await Task.Delay(100, cts.Token);
            Assert.Contains(sink.Lines, l => l.StartsWith($"[{fixture.Sandbox.Name}] ", StringComparison.Ordinal));
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }
}
