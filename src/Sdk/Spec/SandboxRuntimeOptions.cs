using System.Collections.Immutable;

namespace Microsandbox.Spec;

/// <summary>Guest runtime options of a sandbox; each field takes its default when missing.</summary>
public sealed record SandboxRuntimeOptions
{
    /// <summary>Working directory inside the guest.</summary>
    public string? Workdir { get; init; }

    /// <summary>Default shell for scripts and interactive sessions.</summary>
    public string? Shell { get; init; }

    /// <summary>Named scripts available inside the guest; written sorted by name.</summary>
    public IReadOnlyDictionary<string, string> Scripts { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>Image entrypoint override.</summary>
    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary>Image command override.</summary>
    public IReadOnlyList<string>? Cmd { get; init; }

    /// <summary>Guest hostname override.</summary>
    public string? Hostname { get; init; }

    /// <summary>Guest user identity override.</summary>
    public string? User { get; init; }

    /// <summary>Runtime log verbosity.</summary>
    public SandboxLogLevel? LogLevel { get; init; }

    /// <summary>
    /// Metrics sampling interval in milliseconds; <see langword="null"/> disables sampling.
    /// A missing field means <see cref="SpecDefaults.DefaultMetricsSampleIntervalMs"/>; an explicit JSON <c>null</c> means disabled.
    /// </summary>
    public ulong? MetricsSampleIntervalMs { get; init; } = SpecDefaults.DefaultMetricsSampleIntervalMs;

    /// <summary>Force-disable metrics sampling regardless of <see cref="MetricsSampleIntervalMs"/>.</summary>
    public bool DisableMetricsSample { get; init; }

    /// <summary>Whether both hold the same values (scripts and argv lists compared by content).</summary>
    public bool Equals(SandboxRuntimeOptions? other) =>
        other is not null
        && Workdir == other.Workdir
        && Shell == other.Shell
        && SpecEquality.Map(Scripts, other.Scripts)
        && SpecEquality.Sequence(Entrypoint, other.Entrypoint)
        && SpecEquality.Sequence(Cmd, other.Cmd)
        && Hostname == other.Hostname
        && User == other.User
        && LogLevel == other.LogLevel
        && MetricsSampleIntervalMs == other.MetricsSampleIntervalMs
        && DisableMetricsSample == other.DisableMetricsSample;

    /// <summary>A hash consistent with <see cref="Equals(SandboxRuntimeOptions?)"/>.</summary>
    public override int GetHashCode() =>
        HashCode.Combine(Workdir, Shell, Scripts.Count, SpecEquality.SequenceHash(Entrypoint), SpecEquality.SequenceHash(Cmd), Hostname, User, MetricsSampleIntervalMs);
}
