namespace Microsandbox.State;

/// <summary>A sandbox a stale sweep closed because the process owning its active run was gone.</summary>
/// <param name="SandboxId">The sandbox row id.</param>
/// <param name="Name">The sandbox name.</param>
/// <param name="PreviousStatus">Running or Draining, as found.</param>
/// <param name="NewStatus">Crashed (was Running) or Stopped (was Draining), as msb reconciles them.</param>
/// <param name="RunId">The run row that was terminated, if the sandbox had one.</param>
/// <param name="Pid">The dead pid that run carried.</param>
public sealed record StaleSandbox(
    long SandboxId,
    string Name,
    SandboxStatus PreviousStatus,
    SandboxStatus NewStatus,
    long? RunId,
    int? Pid);
