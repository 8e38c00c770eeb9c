namespace Microsandbox.Spec;

/// <summary>A POSIX resource limit. Every field is required on read.</summary>
public sealed record Rlimit
{
    /// <summary>Resource the limit applies to.</summary>
    public RlimitResource Resource { get; init; }

    /// <summary>Soft limit (a process may raise it up to <see cref="Hard"/>).</summary>
    public ulong Soft { get; init; }

    /// <summary>Hard limit (raising it needs privileges).</summary>
    public ulong Hard { get; init; }
}
