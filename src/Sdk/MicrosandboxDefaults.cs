namespace Microsandbox;

/// <summary>Versions and names this toolkit pins in one place.</summary>
public static class MicrosandboxDefaults
{
    /// <summary>The upstream microsandbox runtime (<c>msb</c> + <c>libkrunfw</c>) version this toolkit speaks to.</summary>
    public const string RuntimeVersion = "0.6.18";
}
