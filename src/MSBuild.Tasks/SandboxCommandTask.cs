using Microsandbox.Orchestration;
using Microsoft.Build.Framework;

namespace Microsandbox.MSBuild;

/// <summary>
/// The parameters and outcome every task that runs one command in a sandbox shares (<see cref="MicrosandboxRun"/>,
/// <see cref="MicrosandboxExec"/>): what to run, how its output is logged, and how its exit code decides the build.
/// </summary>
public abstract class SandboxCommandTask : SandboxTask
{
    /// <summary>The program to run (or use <see cref="Script"/>).</summary>
    public string? Command { get; set; }

    /// <summary>A shell script run as <c>/bin/sh -c SCRIPT</c> instead of <see cref="Command"/> (MSBuild splits <see cref="Arguments"/> on <c>;</c>, a script is taken whole).</summary>
    public string? Script { get; set; }

    /// <summary>Its arguments, one per item (never re-split on spaces).</summary>
    public string[]? Arguments { get; set; }

    /// <summary>Seconds the command may run (0: no limit); on expiry it is killed and the build fails (MSBX003).</summary>
    public int Timeout { get; set; }

    /// <summary>Report a non-zero exit code in <see cref="ExitCode"/> without failing.</summary>
    public bool IgnoreExitCode { get; set; }

    /// <summary>Importance of stdout lines: High (default), Normal or Low.</summary>
    public string? StandardOutputImportance { get; set; }

    /// <summary>Importance of stderr lines: High (default), Normal or Low.</summary>
    public string? StandardErrorImportance { get; set; }

    /// <summary>The command's exit code.</summary>
    [Output]
    public int ExitCode { get; private set; } = -1;

    /// <summary>Everything the command wrote to stdout.</summary>
    [Output]
    public string StandardOutput { get; private set; } = "";

    /// <summary>
    /// Parses the command (with <paramref name="env"/> and <paramref name="workdir"/> for the command itself, when
    /// given), runs it through <paramref name="run"/> with output streamed to the log, records the outputs and
    /// decides success from the exit code.
    /// </summary>
    private protected async Task<bool> RunCommandAsync(string[]? env, string? workdir,
        Func<CommandRequest, IOutputSink, CancellationToken, Task<CommandResult>> run, CancellationToken cancellationToken)
    {
        var command = ParseCommand(Command, Script, Arguments, env, workdir, Timeout);
        var result = await run(command, CreateSink(StandardOutputImportance, StandardErrorImportance), cancellationToken);
        ExitCode = result.ExitCode;
        StandardOutput = result.StandardOutput;
        return CheckExitCode(command, result, IgnoreExitCode);
    }
}
