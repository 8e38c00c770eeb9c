namespace Microsandbox.Agent;

/// <summary>Everything a finished command produced.</summary>
/// <param name="Stdout">All stdout bytes.</param>
/// <param name="Stderr">All stderr bytes.</param>
/// <param name="ExitCode">Exit code.</param>
public sealed record ExecResult(byte[] Stdout, byte[] Stderr, int ExitCode)
{
    /// <summary>Stdout decoded as UTF-8.</summary>
    public string StdoutText => System.Text.Encoding.UTF8.GetString(Stdout);

    /// <summary>Stderr decoded as UTF-8.</summary>
    public string StderrText => System.Text.Encoding.UTF8.GetString(Stderr);
}
