using Microsoft.Build.Framework;

namespace Microsandbox.MSBuild;

/// <summary>
/// <c>&lt;MicrosandboxExec SandboxName="db" Command="…" /&gt;</c>: runs a command in a sandbox started earlier in
/// this build by <see cref="MicrosandboxStart"/>, with output streamed to the log; fails like
/// <see cref="MicrosandboxRun"/>. Cancelling kills the command; the sandbox is stopped when the build ends.
/// </summary>
public sealed class MicrosandboxExec : SandboxCommandTask
{
    /// <summary>The name <see cref="MicrosandboxStart"/> reported.</summary>
    [Required]
    public string SandboxName { get; set; } = "";

    /// <summary>Extra environment variables, <c>NAME=VALUE</c> items.</summary>
    public string[]? Env { get; set; }

    /// <summary>Working directory in the guest.</summary>
    public string? Workdir { get; set; }

    private protected override async Task<bool> ExecuteAsync(CancellationToken cancellationToken)
    {
        var lease = BuildEngine4.GetRegisteredTaskObject(SandboxLease.Key(SandboxName), RegisteredTaskObjectLifetime.Build) as SandboxLease
            ?? throw new InvalidConfigException($"SandboxName: no sandbox named '{SandboxName}' was started in this build (use MicrosandboxStart first)");
        var orchestrator = CreateOrchestrator();
        return await RunCommandAsync(Env, Workdir, (command, sink, ct) => orchestrator.ExecAsync(lease.Sandbox, command, sink, ct), cancellationToken);
    }
}
