namespace Microsandbox;

/// <summary>The main process's health, as Docker reports a container's.</summary>
public enum HealthStatus
{
    /// <summary>No health check runs (none declared, or no main process).</summary>
    None,

    /// <summary>Checks run, none passed yet, and the failures so far do not make it unhealthy.</summary>
    Starting,

    /// <summary>The last check passed.</summary>
    Healthy,

    /// <summary>The check failed its retries in a row (outside the start period).</summary>
    Unhealthy,
}
