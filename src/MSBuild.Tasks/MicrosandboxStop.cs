using Microsoft.Build.Framework;

namespace Microsandbox.MSBuild;

/// <summary>
/// <c>&lt;MicrosandboxStop SandboxName="db" /&gt;</c>: stops and removes a sandbox started by
/// <see cref="MicrosandboxStart"/>. Stopping one that is already gone is not an error, so it is safe in cleanup targets.
/// </summary>
public sealed class MicrosandboxStop : SandboxTask
{
    /// <summary>The name <see cref="MicrosandboxStart"/> reported.</summary>
    [Required]
    public string SandboxName { get; set; } = "";

    private protected override async Task<bool> ExecuteAsync(CancellationToken cancellationToken)
    {
        if (BuildEngine4.UnregisterTaskObject(SandboxLease.Key(SandboxName), RegisteredTaskObjectLifetime.Build) is SandboxLease lease)
        {
            // Teardown ignores cancellation on purpose: a Ctrl+C during cleanup must still stop the VM.
            await lease.StopAsync(CreateOrchestrator());
            Message(MessageImportance.Normal, "Sandbox {0} stopped.", SandboxName);
        }
        else
        {
            Message(MessageImportance.Normal, "Sandbox {0} is not running in this build; nothing to stop.", SandboxName);
        }
        return true;
    }
}
