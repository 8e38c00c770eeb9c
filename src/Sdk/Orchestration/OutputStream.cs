namespace Microsandbox.Orchestration;

/// <summary>Which stream of a guest command a line came from.</summary>
public enum OutputStream
{
    /// <summary>The command's standard output.</summary>
    Stdout,

    /// <summary>The command's standard error.</summary>
    Stderr,
}
