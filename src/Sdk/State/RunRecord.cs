namespace Microsandbox.State;

/// <summary>One row of msb's <c>run</c> table: one boot of a sandbox by one sandbox process.</summary>
/// <param name="Id">Row id.</param>
/// <param name="SandboxId">The sandbox this run belongs to (deleted with it).</param>
/// <param name="Pid">Pid of the sandbox process; a stale sweep checks it is still alive.</param>
/// <param name="Status">Running or Terminated.</param>
/// <param name="ExitCode">VM exit code, when it exited by itself.</param>
/// <param name="ExitSignal">Signal that ended the VM, if any.</param>
/// <param name="TerminationReason">Why the run ended.</param>
/// <param name="TerminationDetail">Free text detail about the end.</param>
/// <param name="SignalsSent">msb's record of signals it sent (JSON text), passed through untouched.</param>
/// <param name="StartedAt">When the run started (UTC).</param>
/// <param name="TerminatedAt">When the run ended (UTC).</param>
public sealed record RunRecord(
    long Id,
    long SandboxId,
    int? Pid,
    RunStatus Status,
    int? ExitCode,
    int? ExitSignal,
    TerminationReason? TerminationReason,
    string? TerminationDetail,
    string? SignalsSent,
    DateTime? StartedAt,
    DateTime? TerminatedAt);
