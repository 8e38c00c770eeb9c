using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>Which of a sandbox's log lines to read (upstream's <c>LogOptions</c>).</summary>
public sealed record LogOptions
{
    /// <summary>Only lines at or after this moment.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Only lines before this moment.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>Only the last this many lines (after the time filters).</summary>
    public int? Tail { get; init; }

    /// <summary>
    /// The sources to include. Empty (the default): the program's own output (stdout, stderr, output), without the
    /// runtime's system lines.
    /// </summary>
    public IReadOnlyList<LogSource> Sources { get; init; } = [];

    internal IReadOnlyList<LogSource> EffectiveSources =>
        Sources.Count > 0 ? Sources : [LogSource.Stdout, LogSource.Stderr, LogSource.Output];

    internal bool Includes(LogEntry entry) =>
        EffectiveSources.Contains(entry.Source)
        && (Since is not { } since || entry.Timestamp >= since)
        && (Until is not { } until || entry.Timestamp < until);

    internal IReadOnlyList<LogEntry> Apply(IEnumerable<LogEntry> entries)
    {
        if (Tail is < 0) throw new ArgumentOutOfRangeException(nameof(Tail), Tail, "LogOptions.Tail: must be zero or more");
        var kept = entries.Where(Includes).ToList();
        return Tail is { } n && kept.Count > n ? kept.GetRange(kept.Count - n, n) : kept;
    }
}
