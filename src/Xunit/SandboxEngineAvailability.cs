using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Microsandbox.Xunit;

/// <summary>Whether the running test assembly's sandboxes can boot, decided once per process.</summary>
internal static class SandboxEngineAvailability
{
    private static readonly Lazy<string?> Reason = new(() =>
    {
        var assembly = TestAssembly();
        if (assembly is null) return null;
        try
        {
            var factory = MicrosandboxServices.For(assembly).GetRequiredService<SandboxFactory>();
            // Where an engine is required the test runs and fails with the reason instead.
            if (factory.Options.EngineRequired) return null;
            var why = factory.EngineUnavailableReason;
            return why is null ? null : "no sandbox engine can run on this host: " + why;
        }
        catch (MicrosandboxException)
        {
            // Invalid options are not a reason to skip: the test runs and fails with the message.
            return null;
        }
    });

    // xUnit v3 test assemblies are the entry assembly; under v2 the entry is the runner's test host, so the loaded
    // assembly that carries [MicrosandboxStartup] is the one whose options decide.
    private static Assembly? TestAssembly() =>
        TestAssembly(Assembly.GetEntryAssembly(), AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic));

    /// <summary>The entry assembly when it is configured, else the one configured assembly among <paramref name="loaded"/>, else the entry.</summary>
    internal static Assembly? TestAssembly(Assembly? entry, IEnumerable<Assembly> loaded)
    {
        if (entry?.IsDefined(typeof(MicrosandboxStartupAttribute)) == true) return entry;
        var configured = loaded.Where(a => a.IsDefined(typeof(MicrosandboxStartupAttribute))).Take(2).ToList();
        return configured.Count == 1 ? configured[0] : entry;
    }

    /// <summary>
    /// The skip reason, or null when sandboxes can boot (or the answer must come from the test itself). Null as well
    /// when an engine is required (<see cref="MicrosandboxOptions.RequireEngine"/>): the test then runs and fails with
    /// the reason.
    /// </summary>
    public static string? SkipReason => Reason.Value;

    /// <summary>
    /// The failure for a host without an engine where <paramref name="factory"/>'s options require one
    /// (<see cref="MicrosandboxOptions.RequireEngine"/>), or null where skipping is allowed.
    /// </summary>
    public static Engines.EngineUnavailableException? RequiredFailure(SandboxFactory factory, string why) =>
        factory.Options.EngineRequired
            ? new Engines.EngineUnavailableException("sandbox", $"{why} (an engine is required here: MicrosandboxOptions.RequireEngine, {Engines.EngineRequirement.EnvironmentVariable}=1 or CI=true)")
            : null;
}
