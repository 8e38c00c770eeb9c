using System.CommandLine;
using System.Globalization;
using Microsandbox.Spec;

namespace Microsandbox.Cli.Commands;

/// <summary>
/// <c>microsandbox logs [-f] [--since T] [--tail N] [-t] NAME</c>: the main process's output, stdout lines to stdout
/// and stderr lines to stderr; <c>-f</c> follows until the sandbox stops.
/// </summary>
public static class LogsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The sandbox." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until the sandbox stops." };
        var since = new Option<string?>("--since") { Description = "Only lines since a time: RFC 3339 (2026-12-07T10:00:00Z) or a duration ago (30s, 5m, 2h)." };
        var tail = new Option<int?>("--tail", "-n") { Description = "Only the last N lines." };
        var timestamps = new Option<bool>("--timestamps", "-t") { Description = "Prefix each line with its time." };
        var all = new Option<bool>("--all") { Description = "Include the runtime's own lines (start, stop, exit code)." };
        var logs = new Command("logs", "Print a sandbox's main-process output.") { name, follow, since, tail, timestamps, all };
        logs.SetAction(async (parse, ct) =>
        {
            var options = new LogOptions
            {
                Since = parse.GetValue(since) is { } s ? ParseSince(s, DateTimeOffset.UtcNow) : null,
                Tail = parse.GetValue(tail),
                Sources = parse.GetValue(all) ? [LogSource.Stdout, LogSource.Stderr, LogSource.Output, LogSource.System] : [],
            };
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            bool stamp = parse.GetValue(timestamps);
            async Task WriteAsync(LogEntry entry)
            {
                var line = stamp ? $"{entry.Timestamp:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} {entry.Text}" : entry.Text;
                await (entry.Source == LogSource.Stderr ? error : output).WriteLineAsync(line);
            }
            var sandbox = parse.GetValue(name)!;
            if (parse.GetValue(follow))
            {
                await foreach (var entry in Sandboxes.FollowLogsAsync(sandbox, options, cancellationToken: ct)) await WriteAsync(entry);
            }
            else
            {
                foreach (var entry in await Sandboxes.GetLogsAsync(sandbox, options, cancellationToken: ct)) await WriteAsync(entry);
            }
            return 0;
        });
        return logs;
    }

    /// <summary>An RFC 3339 time, or a duration before <paramref name="now"/> (<c>90s</c>, <c>5m</c>, <c>2h</c>, <c>1d</c>).</summary>
    /// <exception cref="InvalidConfigException">Neither.</exception>
    internal static DateTimeOffset ParseSince(string text, DateTimeOffset now)
    {
        if (text.Length > 1 && double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount >= 0)
        {
            TimeSpan? ago = text[^1] switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                _ => null,
            };
            if (ago is { } a) return now - a;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)) return at;
        throw new InvalidConfigException($"--since '{text}': expected an RFC 3339 time (2026-12-07T10:00:00Z) or a duration ago (30s, 5m, 2h, 1d)");
    }
}
