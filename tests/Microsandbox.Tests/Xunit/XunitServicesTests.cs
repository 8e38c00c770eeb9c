using System.Reflection;
using System.Reflection.Emit;
using Microsandbox.Xunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Tests.Xunit;

/// <summary>The assembly-level service provider (startup attribute) and log routing; no VM is booted.</summary>
public sealed class XunitServicesTests
{
    public sealed class GoodStartup : IMicrosandboxStartup
    {
        public void ConfigureServices(IServiceCollection services) => services
            .AddMicrosandbox(o =>
            {
                o.HomeDirectory = Path.Combine(Path.GetTempPath(), "msbx-startup");
                o.NamePrefix = "startup";
            })
            .AddSandbox("db", b => b.Memory(256));
    }

    public sealed class NotAStartup;

    public sealed class InvalidOptionsStartup : IMicrosandboxStartup
    {
        public void ConfigureServices(IServiceCollection services) => services.AddMicrosandbox(o => o.PoolSize = -3);
    }

    // A test assembly stand-in carrying [assembly: MicrosandboxStartup(typeof(T))].
    private static Assembly AssemblyWithStartup(Type startup) =>
        AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("msbx-" + Guid.NewGuid().ToString("N")), AssemblyBuilderAccess.Run,
            [new CustomAttributeBuilder(typeof(MicrosandboxStartupAttribute).GetConstructor([typeof(Type)])!, [startup])]);

    [Fact]
    public void The_startup_class_named_by_the_assembly_attribute_configures_its_services()
    {
        var assembly = AssemblyWithStartup(typeof(GoodStartup));
        var provider = MicrosandboxServices.For(assembly);
        Assert.Same(provider, MicrosandboxServices.For(assembly));
        var factory = provider.GetRequiredService<SandboxFactory>();
        Assert.Equal("startup", factory.Options.NamePrefix);
        Assert.Equal(["db"], factory.DefinitionNames);
        Assert.Equal(256u, factory.CreateBuilder("db").Build().Spec.Resources.MemoryMib);
    }

    [Fact]
    public void Skip_decisions_use_the_configured_test_assembly_even_when_a_runner_host_is_the_entry()
    {
        var host = typeof(object).Assembly; // xUnit v2 under VSTest: the entry is testhost, not the tests
        var tests = AssemblyWithStartup(typeof(GoodStartup));
        var other = AssemblyWithStartup(typeof(GoodStartup));
        Assert.Same(tests, SandboxEngineAvailability.TestAssembly(host, [host, tests]));
        Assert.Same(tests, SandboxEngineAvailability.TestAssembly(tests, [host, other])); // a configured entry wins
        Assert.Same(host, SandboxEngineAvailability.TestAssembly(host, [host, tests, other])); // ambiguous: the entry
        Assert.Same(host, SandboxEngineAvailability.TestAssembly(host, [host]));
    }

    [Fact]
    public void A_startup_type_that_is_not_a_startup_fails_every_caller_with_the_fix()
    {
        var assembly = AssemblyWithStartup(typeof(NotAStartup));
        var first = Assert.Throws<InvalidConfigException>(() => MicrosandboxServices.For(assembly));
        Assert.Equal($"[assembly: MicrosandboxStartup(typeof(NotAStartup))]: {typeof(NotAStartup).FullName} must implement IMicrosandboxStartup", first.Message);
        var second = Assert.Throws<InvalidConfigException>(() => MicrosandboxServices.For(assembly));
        Assert.Equal(first.Message, second.Message);
    }

    [Fact]
    public void Invalid_options_from_the_startup_class_fail_at_startup()
    {
        var e = Assert.Throws<InvalidConfigException>(() => MicrosandboxServices.For(AssemblyWithStartup(typeof(InvalidOptionsStartup))));
        Assert.Equal("Microsandbox options are invalid: PoolSize must be 0 or more, got -3", e.Message);
    }

    [Fact]
    public void Log_lines_follow_the_current_target_and_level()
    {
        var boot = new List<string>();
        var test = new List<string>();
        var router = new LogRouter(boot.Add, LogLevel.Information);
        var logger = router.CreateLogger("Microsandbox.Sandbox");
        logger.LogInformation("booting {Name}", "a");
        logger.LogDebug("not shown");
        router.Target = test.Add;
        logger.LogWarning("in the test");
        // A finished test's output throws; the line is dropped, the sandbox goes on.
        router.Target = _ => throw new InvalidOperationException("There is no currently active test.");
        logger.LogError("after the test");

        Assert.Single(boot);
        Assert.Matches(@"^\[\d\d:\d\d:\d\d\.\d{3} info\] Microsandbox\.Sandbox: booting a$", boot[0]);
        Assert.Single(test);
        Assert.EndsWith("warn] Microsandbox.Sandbox: in the test", test[0], StringComparison.Ordinal);
    }
}
