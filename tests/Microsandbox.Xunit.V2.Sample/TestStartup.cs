using Microsandbox.Xunit;
using Microsandbox.Xunit.V2.Sample;
using Microsoft.Extensions.DependencyInjection;

[assembly: MicrosandboxStartup(typeof(TestStartup))]

namespace Microsandbox.Xunit.V2.Sample;

/// <summary>
/// The sample's services: a state directory of its own, one booted-ahead sandbox per pool (the host has few cores),
/// and a named definition "web".
/// </summary>
public sealed class TestStartup : IMicrosandboxStartup
{
    public void ConfigureServices(IServiceCollection services)
    {
        services.AddMicrosandbox(o =>
        {
            o.HomeDirectory = Environment.GetEnvironmentVariable("MSB_HOME") is { Length: > 0 } home
                ? home
                : Path.Combine(Path.GetTempPath(), "msbx-v2-sample");
            o.NamePrefix = "v2sample";
            o.PoolSize = 1;
        });
        services.AddSandbox("web", b => b.Env("ROLE", "web").Hostname("web"));
    }
}
