using Microsandbox.Orchestration;

namespace Microsandbox.MSBuild;

/// <summary>
/// A sandbox started by <see cref="MicrosandboxStart"/>, kept by MSBuild as a build-lifetime registered task object
/// so later tasks find it. MSBuild disposes such objects when the build ends — also when it failed or was
/// cancelled — which stops the sandbox even if no <see cref="MicrosandboxStop"/> ran.
/// </summary>
internal sealed class SandboxLease(Sandbox sandbox) : IDisposable
{
    private int _disposed;

    public Sandbox Sandbox { get; } = sandbox;

    /// <summary>The registered-task-object key for a sandbox name.</summary>
    public static string Key(string name) => "Microsandbox.MSBuild.Sandbox:" + name;

    /// <summary>Stops the sandbox once, logging through <paramref name="orchestrator"/>.</summary>
    public Task StopAsync(SandboxOrchestrator orchestrator) =>
        Interlocked.Exchange(ref _disposed, 1) == 0 ? orchestrator.TeardownAsync(Sandbox) : Task.CompletedTask;

    public void Dispose() => StopAsync(new SandboxOrchestrator()).GetAwaiter().GetResult();
}
