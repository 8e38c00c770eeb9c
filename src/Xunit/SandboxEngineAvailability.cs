using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Microsandbox.Xunit;

/// <summary>Whether the running test assembly's sandboxes can boot, decided once per process.</summary>
internal static class SandboxEngineAvailability
{
    private static readonly Lazy<string?> Reason = new(() =>
    {
        var assembly = Assembly.GetEntryAssembly();
        if (assembly is null) return null;
        try
        {
            var why = MicrosandboxServices.For(assembly).GetRequiredService<SandboxFactory>().EngineUnavailableReason;
            return why is null ? null : "no sandbox engine can run on this host: " + why;
        }
        catch (MicrosandboxException)
        {
            // Invalid options are not a reason to skip: the test runs and fails with the message.
            return null;
        }
    });

    /// <summary>The skip reason, or null when sandboxes can boot (or the answer must come from the test itself).</summary>
    public static string? SkipReason => Reason.Value;
}
