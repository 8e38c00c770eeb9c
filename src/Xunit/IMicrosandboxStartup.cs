using Microsoft.Extensions.DependencyInjection;

namespace Microsandbox.Xunit;

/// <summary>Registers a test assembly's services; see <see cref="MicrosandboxStartupAttribute"/>.</summary>
public interface IMicrosandboxStartup
{
    /// <summary>Adds services, typically <c>services.AddMicrosandbox(o => …).AddSandbox("db", b => …)</c>.</summary>
    void ConfigureServices(IServiceCollection services);
}
