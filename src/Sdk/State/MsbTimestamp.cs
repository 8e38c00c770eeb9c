using System.Globalization;

namespace Microsandbox.State;

/// <summary>
/// The <c>datetime_text</c> format msb (sqlx + chrono <c>NaiveDateTime</c>, UTC) stores:
/// <c>yyyy-MM-dd HH:mm:ss</c> followed by an optional fraction, which chrono prints with 3, 6 or 9 digits.
/// We always write 9 digits (100 ns ticks plus <c>00</c>) so our rows look like msb's.
/// </summary>
internal static class MsbTimestamp
{
    private static readonly string[] ReadFormats =
    [
        "yyyy-MM-dd HH:mm:ss",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-ddTHH:mm:ss",
        "yyyy-MM-ddTHH:mm:ss.FFFFFFF",
    ];

    /// <summary>Current UTC time truncated to what we can store (100 ns).</summary>
    public static DateTime Now() => DateTime.UtcNow;

    public static string Format(DateTime value)
    {
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value;
        return utc.ToString("yyyy-MM-dd HH:mm:ss.fffffff", CultureInfo.InvariantCulture) + "00";
    }

    public static DateTime? ParseOrNull(object? value) => value is string text ? Parse(text) : null;

    public static DateTime Parse(string text)
    {
        var trimmed = text.Trim();

        // .NET stops at 7 fractional digits; chrono writes up to 9, so drop the nanosecond tail.
        var dot = trimmed.IndexOf('.', StringComparison.Ordinal);
        if (dot >= 0)
        {
            var end = dot + 1;
            while (end < trimmed.Length && char.IsAsciiDigit(trimmed[end]))
            {
                end++;
            }

            var fraction = trimmed[(dot + 1)..end];
            if (fraction.Length > 7)
            {
                fraction = fraction[..7];
            }

            trimmed = trimmed[..(dot + 1)] + fraction + trimmed[end..];
        }

        // A trailing zone (older rows or hand edits) is honoured; naive text is UTC, as msb means it.
        if (trimmed.EndsWith('Z') || HasOffset(trimmed))
        {
            return DateTimeOffset.Parse(trimmed, CultureInfo.InvariantCulture).UtcDateTime;
        }

        if (DateTime.TryParseExact(trimmed, ReadFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return DateTime.SpecifyKind(parsed, DateTimeKind.Utc);
        }

        throw new MicrosandboxException($"'{text}' is not a timestamp in msb's format (yyyy-MM-dd HH:mm:ss[.fraction], UTC)");
    }

    private static bool HasOffset(string text)
    {
        // "+hh:mm" / "-hh:mm" after the time part; the date's own dashes sit before index 10.
        var index = text.LastIndexOfAny(['+', '-']);
        return index > 10;
    }
}
