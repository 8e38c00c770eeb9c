namespace Microsandbox.Xunit;

/// <summary>
/// Names the class that registers a test assembly's services:
/// <c>[assembly: MicrosandboxStartup(typeof(TestStartup))]</c>, where <c>TestStartup</c> implements
/// <see cref="IMicrosandboxStartup"/> and has a public parameterless constructor. Without it the assembly gets
/// <c>AddMicrosandbox()</c> with every default.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class MicrosandboxStartupAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    public MicrosandboxStartupAttribute(Type startupType) => StartupType = startupType;

    /// <summary>The class implementing <see cref="IMicrosandboxStartup"/>.</summary>
    public Type StartupType { get; }
}
