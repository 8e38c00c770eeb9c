namespace Microsandbox.Spec;

/// <summary>Lifecycle policy of a sandbox.</summary>
public sealed record SandboxPolicy
{
    /// <summary>Whether the sandbox is removed once it reaches a terminal state; <see langword="false"/> (persistent) when missing.</summary>
    public bool Ephemeral { get; init; }

    /// <summary>Hard cap on total lifetime in seconds; <see langword="null"/> runs forever.</summary>
    public ulong? MaxDurationSecs { get; init; }

    /// <summary>Idle timeout in seconds; <see langword="null"/> disables idle detection.</summary>
    public ulong? IdleTimeoutSecs { get; init; }
}
