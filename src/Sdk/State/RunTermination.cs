namespace Microsandbox.State;

/// <summary>How a run ended, as recorded when it is finished.</summary>
/// <param name="Reason">The reason written to <c>run.termination_reason</c>.</param>
/// <param name="ExitCode">The VM's exit code, when known.</param>
/// <param name="ExitSignal">The signal that ended it, when known.</param>
/// <param name="Detail">Optional free text for <c>run.termination_detail</c>.</param>
public sealed record RunTermination(
    TerminationReason Reason,
    int? ExitCode = null,
    int? ExitSignal = null,
    string? Detail = null)
{
    /// <summary>
    /// The reason msb's runtime derives from an exit code when no policy (idle, max duration, signal…) ended
    /// the run: <see cref="TerminationReason.Completed"/> for 0, otherwise <see cref="TerminationReason.Failed"/>.
    /// </summary>
    /// <param name="exitCode">The VM's exit code.</param>
    public static RunTermination FromExitCode(int exitCode) =>
        new(exitCode == 0 ? TerminationReason.Completed : TerminationReason.Failed, exitCode);
}
