namespace Microsandbox.Build;

/// <summary>A target could not finish; the build exits with <see cref="ExitCode"/>.</summary>
internal sealed class BuildFailedException(string message, int exitCode = 1) : Exception(message)
{
    /// <summary>The process exit code to report (a failed child's own code when there is one).</summary>
    public int ExitCode { get; } = exitCode == 0 ? 1 : exitCode;
}
