using Microsoft.Build.Framework;

namespace Microsandbox.MSBuild;

/// <summary>
/// <c>&lt;MicrosandboxRun Image="…" Command="…" Arguments="…" /&gt;</c>: boots a throwaway microVM, runs one command
/// with its output streamed to the build log, and removes the VM. A non-zero exit code fails the build (MSBX001)
/// unless <see cref="SandboxCommandTask.IgnoreExitCode"/> is set; <c>ContinueOnError</c> works as for any task.
/// </summary>
public sealed class MicrosandboxRun : SandboxCommandTask
{
    /// <summary>Root filesystem: an OCI reference, or a directory or disk image (relative to the project); empty for the built-in busybox image.</summary>
    public string? Image { get; set; }

    /// <summary>Sandbox name; empty for a generated one.</summary>
    public string? Name { get; set; }

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

    /// <summary>The sandbox the command ran in.</summary>
    [Output]
    public string SandboxName { get; private set; } = "";

    private protected override async Task<bool> ExecuteAsync(CancellationToken cancellationToken)
    {
        var sandbox = ParseSandbox(Name, Image, Cpus, Memory, Env, Mounts, Ports, Workdir);
        var orchestrator = CreateOrchestrator();
        // Env and Workdir belong to the sandbox here (ParseSandbox), not to the command.
        return await RunCommandAsync(null, null, async (command, sink, ct) =>
        {
            var result = await orchestrator.RunAsync(sandbox, command, sink, ct);
            SandboxName = result.SandboxName;
            return result;
        }, cancellationToken);
    }
}
