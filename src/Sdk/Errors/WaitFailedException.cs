namespace Microsandbox;

/// <summary>
/// A readiness wait (<see cref="SandboxBuilder.WaitFor"/>) did not hold: it timed out, its check failed for good
/// (an unhealthy healthcheck), or the sandbox stopped first. The sandbox has been torn down; the message names the
/// wait and carries the main process's last log lines.
/// </summary>
public sealed class WaitFailedException : MicrosandboxException
{
    /// <summary>Creates the exception.</summary>
    public WaitFailedException(string sandboxName, string wait, string reason, IReadOnlyList<string> lastLogLines)
        : base($"sandbox '{sandboxName}': wait for {wait} failed: {reason}; last log lines: {(lastLogLines.Count == 0 ? "(none)" : string.Join(" | ", lastLogLines))}")
    {
        SandboxName = sandboxName;
        Wait = wait;
        LastLogLines = lastLogLines;
    }

    /// <summary>The sandbox.</summary>
    public string SandboxName { get; }

    /// <summary>The wait that failed, as described in the message (e.g. <c>port 6379/tcp</c>).</summary>
    public string Wait { get; }

    /// <summary>The sandbox's last log lines when the wait failed: the main process's output and the runtime's own lines.</summary>
    public IReadOnlyList<string> LastLogLines { get; }
}
