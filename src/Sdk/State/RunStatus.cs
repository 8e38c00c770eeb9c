namespace Microsandbox.State;

/// <summary>State of one run (one boot) of a sandbox, stored in <c>run.status</c> as the member name.</summary>
public enum RunStatus
{
    /// <summary>The sandbox process of this run is (believed to be) alive.</summary>
    Running,

    /// <summary>The run ended; <c>terminated_at</c> and usually <c>termination_reason</c> are set.</summary>
    Terminated,
}
