using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsandbox.Xunit;

/// <summary>
/// The service provider of a test assembly, built once from its <see cref="MicrosandboxStartupAttribute"/> startup
/// class, with the options validated on the spot. A build or validation failure is kept and rethrown to every fixture
/// and test that asks, so each one reports the same clear message.
/// </summary>
public static class MicrosandboxServices
{
    private static readonly ConcurrentDictionary<Assembly, Lazy<Built>> Providers = new();

    /// <summary>The services of the assembly that defines <paramref name="type"/> (the test class, fixture or definition).</summary>
    public static IServiceProvider For(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return For(TestAssemblyOf(type));
    }

    /// <summary>The services of <paramref name="assembly"/>.</summary>
    /// <exception cref="InvalidConfigException">The startup class is unusable or the options are invalid.</exception>
    public static IServiceProvider For(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var built = Providers.GetOrAdd(assembly, a => new Lazy<Built>(() => Build(a))).Value;
        if (built.Failure is { } failure) throw failure;
        return built.Provider!;
    }

    /// <summary>The sandbox factory of the assembly that defines <paramref name="type"/>.</summary>
    public static SandboxFactory FactoryFor(Type type) => For(type).GetRequiredService<SandboxFactory>();

    /// <summary>
    /// Builds a provider from <paramref name="configureServices"/> the way a test assembly's is built (options validated
    /// at once), without caching it: for tools and for testing configurations.
    /// </summary>
    public static ServiceProvider BuildProvider(Action<IServiceCollection> configureServices)
    {
        ArgumentNullException.ThrowIfNull(configureServices);
        var services = new ServiceCollection();
        configureServices(services);
        services.AddMicrosandbox();
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        try
        {
            provider.GetService<IStartupValidator>()?.Validate();
            provider.GetRequiredService<SandboxFactory>();
        }
        catch (OptionsValidationException e)
        {
            provider.Dispose();
            throw new InvalidConfigException("Microsandbox options are invalid: " + string.Join("; ", e.Failures));
        }
        catch
        {
            provider.Dispose();
            throw;
        }
        return provider;
    }

    // A fixture defined in a library (SandboxFixture<DefaultSandbox>) belongs to the running test assembly instead.
    private static Assembly TestAssemblyOf(Type type)
    {
        var own = type.Assembly;
        if (own != typeof(MicrosandboxServices).Assembly) return own;
        return Assembly.GetEntryAssembly() ?? own;
    }

    private static Built Build(Assembly assembly)
    {
        try
        {
            var attribute = assembly.GetCustomAttribute<MicrosandboxStartupAttribute>();
            IMicrosandboxStartup? startup = null;
            if (attribute is not null)
            {
                if (!typeof(IMicrosandboxStartup).IsAssignableFrom(attribute.StartupType))
                    throw new InvalidConfigException($"[assembly: MicrosandboxStartup(typeof({attribute.StartupType.Name}))]: {attribute.StartupType.FullName} must implement {nameof(IMicrosandboxStartup)}");
                if (attribute.StartupType.GetConstructor(Type.EmptyTypes) is null)
                    throw new InvalidConfigException($"[assembly: MicrosandboxStartup(typeof({attribute.StartupType.Name}))]: {attribute.StartupType.FullName} needs a public parameterless constructor");
                startup = (IMicrosandboxStartup)Activator.CreateInstance(attribute.StartupType)!;
            }
            var provider = BuildProvider(services => startup?.ConfigureServices(services));
            // The process may end without the test framework disposing anything; pooled sandboxes are stopped here,
            // and the sandbox process watchdog stops whatever this misses.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => DisposeQuietly(provider);
            return new Built(provider, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new Built(null, e as InvalidConfigException ?? new InvalidConfigException($"the Microsandbox services of {assembly.GetName().Name} could not be built: {e.Message}"));
        }
    }

    private static void DisposeQuietly(ServiceProvider provider)
    {
        try
        {
            var factory = provider.GetService<SandboxFactory>();
            factory?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(15));
        }
        catch (AggregateException) { }
        catch (ObjectDisposedException) { }
    }

    private sealed record Built(ServiceProvider? Provider, Exception? Failure);
}
