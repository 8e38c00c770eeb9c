namespace Microsandbox.Orchestration;

/// <summary>What a command run by the orchestrator did.</summary>
/// <param name="SandboxName">The sandbox it ran in.</param>
/// <param name="ExitCode">Its exit code (128+N when killed by signal N).</param>
/// <param name="StandardOutput">Everything it wrote to stdout.</param>
/// <param name="StandardError">Everything it wrote to stderr.</param>
public sealed record CommandResult(string SandboxName, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>True when the exit code is 0.</summary>
    public bool Success => ExitCode == 0;
}
