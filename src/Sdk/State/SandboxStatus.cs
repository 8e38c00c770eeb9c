namespace Microsandbox.State;

/// <summary>
/// Lifecycle state of a sandbox row, stored in <c>sandbox.status</c> as the member name
/// (<c>"Running"</c>, <c>"Stopped"</c>, …) exactly as msb writes it.
/// </summary>
public enum SandboxStatus
{
    /// <summary>Created but never started (msb uses this only for its cloud backend today).</summary>
    Created,

    /// <summary>A start was accepted but the VM is not live yet (cloud backend only upstream).</summary>
    Starting,

    /// <summary>The sandbox process is up; its active run row carries the pid.</summary>
    Running,

    /// <summary>A graceful stop was requested and the VM is shutting down.</summary>
    Draining,

    /// <summary>The VM is paused.</summary>
    Paused,

    /// <summary>The VM ended and its sandbox process recorded the end.</summary>
    Stopped,

    /// <summary>The sandbox process died without recording the end (found by a stale sweep).</summary>
    Crashed,
}
