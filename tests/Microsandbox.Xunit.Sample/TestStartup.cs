using Microsandbox.Xunit;
using Microsandbox.Xunit.Sample;
using Microsoft.Extensions.DependencyInjection;

[assembly: MicrosandboxStartup(typeof(TestStartup))]
[assembly: AssemblyFixture(typeof(AssemblySandbox))]

namespace Microsandbox.Xunit.Sample;

/// <summary>
/// The sample's services: a state directory of its own (MSB_HOME when set, so a parent process can watch it), one
/// booted-ahead sandbox per pool (the host has few cores), and a named definition "web".
/// </summary>
public sealed class TestStartup : IMicrosandboxStartup
{
    public void ConfigureServices(IServiceCollection services)
    {
        services.AddMicrosandbox(o =>
        {
            o.HomeDirectory = Environment.GetEnvironmentVariable("MSB_HOME") is { Length: > 0 } home
                ? home
                : Path.Combine(Path.GetTempPath(), "msbx-sample");
            o.NamePrefix = "sample";
            o.PoolSize = 1;
        });
        services.AddSandbox("web", b => b.Env("ROLE", "web").Hostname("web"));
    }
}
