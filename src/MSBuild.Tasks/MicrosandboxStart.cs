using Microsoft.Build.Framework;

namespace Microsandbox.MSBuild;

/// <summary>
/// <c>&lt;MicrosandboxStart Name="db" … /&gt;</c>: boots a sandbox that later targets use with
/// <see cref="MicrosandboxExec"/> and end with <see cref="MicrosandboxStop"/>. The sandbox is stopped when the build
/// ends in any case (success, failure, Ctrl+C), so a target that fails half-way leaves no VM behind.
/// </summary>
public sealed class MicrosandboxStart : SandboxTask
{
    /// <summary>Root filesystem: an OCI reference, or a directory or disk image (relative to the project); empty for the built-in busybox image.</summary>
    public string? Image { get; set; }

    /// <summary>Sandbox name, used by later tasks; empty for a generated one (read it from <see cref="SandboxName"/>).</summary>
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

    /// <summary>Default working directory in the guest.</summary>
    public string? Workdir { get; set; }

    /// <summary>The sandbox name to pass to <see cref="MicrosandboxExec"/> and <see cref="MicrosandboxStop"/>.</summary>
    [Output]
    public string SandboxName { get; private set; } = "";

    private protected override async Task<bool> ExecuteAsync(CancellationToken cancellationToken)
    {
        var request = ParseSandbox(Name, Image, Cpus, Memory, Env, Mounts, Ports, Workdir);
        if (request.Name is { } name && BuildEngine4.GetRegisteredTaskObject(SandboxLease.Key(name), RegisteredTaskObjectLifetime.Build) is not null)
            throw new InvalidConfigException($"Name: a sandbox named '{name}' was already started in this build");
        var orchestrator = CreateOrchestrator();
        var sandbox = await orchestrator.StartAsync(request, cancellationToken);
        var lease = new SandboxLease(sandbox);
        try
        {
            BuildEngine4.RegisterTaskObject(SandboxLease.Key(sandbox.Name), lease, RegisteredTaskObjectLifetime.Build, allowEarlyCollection: false);
        }
        catch
        {
            await lease.StopAsync(orchestrator);
            throw;
        }
        SandboxName = sandbox.Name;
        Message(MessageImportance.Normal, "Sandbox {0} is running (engine {1}, pid {2}).", sandbox.Name, sandbox.EngineName, sandbox.ProcessId);
        return true;
    }
}
