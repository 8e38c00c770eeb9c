using System.Runtime.CompilerServices;

namespace Microsandbox.Xunit;

/// <summary>
/// A fact that needs a sandbox: skipped, with the engine's own reason, when no engine can run on this host (never
/// reported as passed).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SandboxFactAttribute : global::Xunit.FactAttribute
{
    /// <summary>Creates the attribute.</summary>
#if XUNIT_V2
    public SandboxFactAttribute()
#else
    public SandboxFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
#endif
    {
        Skip = SandboxEngineAvailability.SkipReason;
    }
}

/// <summary>A theory that needs a sandbox; skipped like <see cref="SandboxFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SandboxTheoryAttribute : global::Xunit.TheoryAttribute
{
    /// <summary>Creates the attribute.</summary>
#if XUNIT_V2
    public SandboxTheoryAttribute()
#else
    public SandboxTheoryAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
#endif
    {
        Skip = SandboxEngineAvailability.SkipReason;
    }
}
