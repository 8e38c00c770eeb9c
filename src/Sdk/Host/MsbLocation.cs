namespace Microsandbox.Host;

/// <summary>What <see cref="MsbLocator"/> found: the upstream runtime binary, its kernel library and version.</summary>
/// <param name="MsbPath">Full path of the <c>msb</c> binary, or null when none was found.</param>
/// <param name="MsbSource">Which rule found it (<c>MSB_PATH</c>, <c>$MSB_HOME/bin</c>, <c>npm</c>, <c>PATH</c>).</param>
/// <param name="LibkrunfwPath">Full path of <c>libkrunfw</c>, or null when none was found.</param>
/// <param name="Version">Version printed by <c>msb --version</c> (e.g. <c>0.6.18</c>), or null when it could not be read.</param>
/// <param name="Reason">Why the runtime is not usable (binary missing, library missing, version unreadable), or null when it is.</param>
/// <param name="Searched">Every candidate path looked at, in order, for error messages and <c>doctor</c>.</param>
public sealed record MsbLocation(
    string? MsbPath,
    string? MsbSource,
    string? LibkrunfwPath,
    string? Version,
    string? Reason,
    IReadOnlyList<string> Searched)
{
    /// <summary>True when both <c>msb</c> and <c>libkrunfw</c> were found and <c>msb --version</c> answered.</summary>
    public bool IsUsable => MsbPath is not null && LibkrunfwPath is not null && Version is not null && Reason is null;

    /// <summary>True when the version is exactly the one this toolkit pins (<see cref="MicrosandboxDefaults.RuntimeVersion"/>).</summary>
    public bool IsPinnedVersion => string.Equals(Version, MicrosandboxDefaults.RuntimeVersion, StringComparison.Ordinal);
}
