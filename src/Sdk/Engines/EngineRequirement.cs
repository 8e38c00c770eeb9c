namespace Microsandbox.Engines;

/// <summary>
/// Whether a host without a working engine is a failure rather than a reason to skip: on CI (<c>CI=true</c>, which
/// every major CI service sets) or with <c>MSB_REQUIRE_ENGINE=1</c>, a test that cannot boot its sandbox must not pass
/// green. <c>MSB_REQUIRE_ENGINE=0</c> turns it off again. Front ends (the xUnit fixtures, the MSBuild tasks) ask here.
/// </summary>
public static class EngineRequirement
{
    /// <summary>The environment variable that forces (1) or waives (0) the requirement.</summary>
    public const string EnvironmentVariable = "MSB_REQUIRE_ENGINE";

    /// <summary>Whether this process must fail, not skip, when no engine can run.</summary>
    public static bool IsRequired => Decide(Environment.GetEnvironmentVariable);

    /// <summary>The rule, over an injectable environment.</summary>
    internal static bool Decide(Func<string, string?> environment)
    {
        if (Flag(environment(EnvironmentVariable)) is { } explicitly) return explicitly;
        return Flag(environment("CI")) ?? false;
    }

    private static bool? Flag(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "1" or "true" or "yes" => true,
        "0" or "false" or "no" => false,
        _ => null,
    };
}
