using Microsoft.Build.Framework;

namespace Microsandbox.MSBuild;

/// <summary>
/// <c>&lt;MicrosandboxExec SandboxName="db" Command="…" /&gt;</c>: runs a command in a sandbox started earlier in
/// this build by <see cref="MicrosandboxStart"/>, with output streamed to the log; fails like
/// <see cref="MicrosandboxRun"/>. Cancelling kills the command; the sandbox is stopped when the build ends.
/// </summary>
public sealed class MicrosandboxExec : SandboxTask
{
    /// <summary>The name <see cref="MicrosandboxStart"/> reported.</summary>
    [Required]
    public string SandboxName { get; set; } = "";

    /// <summary>The program to run (or use <see cref="Script"/>).</summary>
    public string? Command { get; set; }

    /// <summary>A shell script run as <c>/bin/sh -c SCRIPT</c> instead of <see cref="Command"/> (MSBuild splits <see cref="Arguments"/> on <c>;</c>, a script is taken whole).</summary>
    public string? Script { get; set; }

    /// <summary>Its arguments, one per item.</summary>
    public string[]? Arguments { get; set; }

    /// <summary>Extra environment variables, <c>NAME=VALUE</c> items.</summary>
    public string[]? Env { get; set; }

    /// <summary>Working directory in the guest.</summary>
    public string? Workdir { get; set; }

    /// <summary>Seconds the command may run (0: no limit).</summary>
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

    private protected override async Task<bool> ExecuteAsync(CancellationToken cancellationToken)
    {
        var lease = BuildEngine4.GetRegisteredTaskObject(SandboxLease.Key(SandboxName), RegisteredTaskObjectLifetime.Build) as SandboxLease
            ?? throw new InvalidConfigException($"SandboxName: no sandbox named '{SandboxName}' was started in this build (use MicrosandboxStart first)");
        var command = ParseCommand(Command, Script, Arguments, Env, Workdir, Timeout);
        var result = await CreateOrchestrator().ExecAsync(lease.Sandbox, command, CreateSink(StandardOutputImportance, StandardErrorImportance), cancellationToken);
        ExitCode = result.ExitCode;
        StandardOutput = result.StandardOutput;
        return CheckExitCode(command, result, IgnoreExitCode);
    }
}
