using Microsoft.Build.Framework;

namespace Microsandbox.MSBuild;

/// <summary>
/// <c>&lt;MicrosandboxRun Image="…" Command="…" Arguments="…" /&gt;</c>: boots a throwaway microVM, runs one command
/// with its output streamed to the build log, and removes the VM. A non-zero exit code fails the build (MSBX001)
/// unless <see cref="IgnoreExitCode"/> is set; <c>ContinueOnError</c> works as for any task.
/// </summary>
public sealed class MicrosandboxRun : SandboxTask
{
    /// <summary>Root filesystem: an OCI reference, or a directory or disk image (relative to the project); empty for the built-in busybox image.</summary>
    public string? Image { get; set; }

    /// <summary>Sandbox name; empty for a generated one.</summary>
    public string? Name { get; set; }

    /// <summary>The program to run (or use <see cref="Script"/>).</summary>
    public string? Command { get; set; }

    /// <summary>A shell script run as <c>/bin/sh -c SCRIPT</c> instead of <see cref="Command"/> (MSBuild splits <see cref="Arguments"/> on <c>;</c>, a script is taken whole).</summary>
    public string? Script { get; set; }

    /// <summary>Its arguments, one per item (never re-split on spaces).</summary>
    public string[]? Arguments { get; set; }

    /// <summary>Virtual CPUs (0: default).</summary>
    public int Cpus { get; set; }

    /// <summary>Guest memory in MiB (0: default).</summary>
    public int Memory { get; set; }

    /// <summary>Environment variables, <c>NAME=VALUE</c> items.</summary>
    public string[]? Env { get; set; }

    /// <summary>Bind mounts, <c>HOST:GUEST</c> or <c>HOST:GUEST:ro</c> items.</summary>
    public string[]? Mounts { get; set; }

    /// <summary>Published ports, <c>HOST:GUEST</c> items (TCP on 127.0.0.1).</summary>
    public string[]? Ports { get; set; }

    /// <summary>Working directory in the guest.</summary>
    public string? Workdir { get; set; }

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

    /// <summary>The sandbox the command ran in.</summary>
    [Output]
    public string SandboxName { get; private set; } = "";

    private protected override async Task<bool> ExecuteAsync(CancellationToken cancellationToken)
    {
        var sandbox = ParseSandbox(Name, Image, Cpus, Memory, Env, Mounts, Ports, Workdir);
        var command = ParseCommand(Command, Script, Arguments, null, null, Timeout);
        var orchestrator = CreateOrchestrator();
        var result = await orchestrator.RunAsync(sandbox, command, CreateSink(StandardOutputImportance, StandardErrorImportance), cancellationToken);
        ExitCode = result.ExitCode;
        StandardOutput = result.StandardOutput;
        SandboxName = result.SandboxName;
        return CheckExitCode(command, result, IgnoreExitCode);
    }
}
