using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsandbox.Xunit;

/// <summary>Registers Microsandbox's test services.</summary>
public static class MicrosandboxServiceCollectionExtensions
{
    /// <summary>
    /// Adds the sandbox factory and its options; <paramref name="configure"/> sets them. The options are validated
    /// when the test assembly's services start, so a bad value fails every sandbox test with one clear message.
    /// </summary>
    public static IServiceCollection AddMicrosandbox(this IServiceCollection services, Action<MicrosandboxOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<MicrosandboxOptions>();
        if (configure is not null) builder.Configure(configure);
        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MicrosandboxOptions>, MicrosandboxOptionsValidator>());
        services.TryAddSingleton<SandboxFactory>();
        return services;
    }

    /// <summary>
    /// Adds a named sandbox definition (<c>AddSandbox("db", b => b.Memory(512))</c>) that fixtures and
    /// <see cref="SandboxTest"/> classes select by name. Also adds the Microsandbox services if they are missing.
    /// </summary>
    public static IServiceCollection AddSandbox(this IServiceCollection services, string name, Func<SandboxBuilder, SandboxBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("a sandbox definition needs a name", nameof(name));
        services.AddMicrosandbox();
        services.AddSingleton(new SandboxDefinition(name, configure));
        return services;
    }
}
