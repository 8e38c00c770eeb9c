namespace Microsandbox.Spec;

/// <summary>Source tag of a captured log entry. Wire form: <c>"stdout"</c>, <c>"stderr"</c>, <c>"output"</c>, <c>"system"</c>.</summary>
public enum LogSource
{
    /// <summary>A session's stdout (pipe mode).</summary>
    Stdout,

    /// <summary>A session's stderr (pipe mode).</summary>
    Stderr,

    /// <summary>A pty-mode session, stdout and stderr merged.</summary>
    Output,

    /// <summary>Synthetic entries: lifecycle markers, runtime diagnostics, kernel console.</summary>
    System,
}
