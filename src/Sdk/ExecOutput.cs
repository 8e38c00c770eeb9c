using System.Text;

namespace Microsandbox;

/// <summary>The buffered result of a command run in a sandbox.</summary>
/// <param name="ExitCode">The command's exit code (128+N when killed by signal N).</param>
/// <param name="StdoutBytes">Everything the command wrote to stdout, byte-exact.</param>
/// <param name="StderrBytes">Everything the command wrote to stderr, byte-exact.</param>
public sealed record ExecOutput(int ExitCode, ReadOnlyMemory<byte> StdoutBytes, ReadOnlyMemory<byte> StderrBytes)
{
    /// <summary>stdout decoded as UTF-8.</summary>
    public string Stdout => Encoding.UTF8.GetString(StdoutBytes.Span);

    /// <summary>stderr decoded as UTF-8.</summary>
    public string Stderr => Encoding.UTF8.GetString(StderrBytes.Span);

    /// <summary>True when the exit code is 0.</summary>
    public bool Success => ExitCode == 0;
}
