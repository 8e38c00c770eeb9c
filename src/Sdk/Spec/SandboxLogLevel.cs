namespace Microsandbox.Spec;

/// <summary>Runtime log verbosity. Wire form: <c>"error"</c>, <c>"warn"</c>, <c>"info"</c>, <c>"debug"</c>, <c>"trace"</c>.</summary>
public enum SandboxLogLevel
{
    /// <summary>Errors only.</summary>
    Error,

    /// <summary>Warnings and errors.</summary>
    Warn,

    /// <summary>Info and above.</summary>
    Info,

    /// <summary>Debug and above.</summary>
    Debug,

    /// <summary>Everything.</summary>
    Trace,
}
