namespace Microsandbox.Spec;

/// <summary>Helpers for <see cref="LogSource"/>.</summary>
public static class LogSourceExtensions
{
    /// <summary>
    /// The sources a log reader should return: the user-program sources (stdout, stderr, output) when none are
    /// requested, else the requested ones in canonical order without duplicates.
    /// </summary>
    public static IReadOnlyList<LogSource> Effective(IEnumerable<LogSource> requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        var sources = requested.Distinct().Order().ToArray();
        return sources.Length == 0 ? [LogSource.Stdout, LogSource.Stderr, LogSource.Output] : sources;
    }
}
