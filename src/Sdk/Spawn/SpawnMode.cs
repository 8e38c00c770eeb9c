namespace Microsandbox.Spawn;

/// <summary>How a sandbox process relates to its creator.</summary>
public enum SpawnMode
{
    /// <summary>The sandbox process watches its creator through a pipe and stops when the creator dies.</summary>
    Attached,
    /// <summary>The sandbox process runs in its own session and outlives its creator.</summary>
    Detached,
}
