namespace Microsandbox.Spec;

/// <summary>Lowercase names and parsing for <see cref="SandboxLogLevel"/>.</summary>
public static class SandboxLogLevelExtensions
{
    /// <summary>Returns the lowercase name (<c>error</c>, <c>warn</c>, <c>info</c>, <c>debug</c>, <c>trace</c>).</summary>
    public static string AsStr(this SandboxLogLevel level) => level switch
    {
        SandboxLogLevel.Error => "error",
        SandboxLogLevel.Warn => "warn",
        SandboxLogLevel.Info => "info",
        SandboxLogLevel.Debug => "debug",
        SandboxLogLevel.Trace => "trace",
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, "unknown sandbox log level"),
    };

    /// <summary>Parses a lowercase level name (case-sensitive, like upstream).</summary>
    /// <exception cref="FormatException">Unknown name (message <c>unknown sandbox log level: TEXT</c>).</exception>
    public static SandboxLogLevel Parse(string text) =>
        TryParse(text, out var level) ? level : throw new FormatException($"unknown sandbox log level: {text}");

    /// <summary>Parses a lowercase level name; returns <see langword="false"/> if it names no level.</summary>
    public static bool TryParse(string text, out SandboxLogLevel level)
    {
        SandboxLogLevel? parsed = text switch
        {
            "error" => SandboxLogLevel.Error,
            "warn" => SandboxLogLevel.Warn,
            "info" => SandboxLogLevel.Info,
            "debug" => SandboxLogLevel.Debug,
            "trace" => SandboxLogLevel.Trace,
            _ => null,
        };
        level = parsed.GetValueOrDefault();
        return parsed.HasValue;
    }
}
