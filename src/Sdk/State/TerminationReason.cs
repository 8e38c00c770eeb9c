namespace Microsandbox.State;

/// <summary>Why a run ended, stored in <c>run.termination_reason</c> as the member name.</summary>
public enum TerminationReason
{
    /// <summary>The VM exited with code 0.</summary>
    Completed,

    /// <summary>The VM exited with a non-zero code, or the startup command failed.</summary>
    Failed,

    /// <summary>The run exceeded <c>max_duration_secs</c>.</summary>
    MaxDurationExceeded,

    /// <summary>The guest reported no activity for <c>idle_timeout_secs</c>.</summary>
    IdleTimeout,

    /// <summary>The guest agent stopped sending heartbeats.</summary>
    AgentUnresponsive,

    /// <summary>A client asked for shutdown (also what a stale <c>Draining</c> row is closed with).</summary>
    ShutdownRequested,

    /// <summary>An explicit drain request (SIGUSR1 upstream).</summary>
    DrainRequested,

    /// <summary>SIGTERM/SIGINT from outside, or the creating process went away.</summary>
    Signal,

    /// <summary>The runtime failed, or it died without recording the end (stale sweep).</summary>
    InternalError,
}
