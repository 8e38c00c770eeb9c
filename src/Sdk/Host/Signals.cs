namespace Microsandbox.Host;

/// <summary>Linux signal names and numbers: for messages ("signal 9 (SIGKILL)"), images' <c>STOPSIGNAL</c> and Docker's <c>kill</c>.</summary>
public static class Signals
{
    /// <summary>SIGKILL's number.</summary>
    public const int Kill = 9;

    /// <summary>SIGTERM's number.</summary>
    public const int Terminate = 15;

    private static readonly (int Number, string Name)[] Known =
    [
        (1, "SIGHUP"), (2, "SIGINT"), (3, "SIGQUIT"), (4, "SIGILL"), (5, "SIGTRAP"), (6, "SIGABRT"), (7, "SIGBUS"),
        (8, "SIGFPE"), (9, "SIGKILL"), (10, "SIGUSR1"), (11, "SIGSEGV"), (12, "SIGUSR2"), (13, "SIGPIPE"),
        (14, "SIGALRM"), (15, "SIGTERM"), (17, "SIGCHLD"), (18, "SIGCONT"), (19, "SIGSTOP"), (20, "SIGTSTP"),
        (28, "SIGWINCH"), (30, "SIGPWR"),
    ];

    /// <summary>The signal's name (<c>SIGKILL</c>), or <c>signal N</c> for a number without one here.</summary>
    public static string Name(int signal) =>
        Array.Find(Known, k => k.Number == signal).Name ?? "signal " + signal;

    /// <summary>
    /// A signal as Docker reads <c>STOPSIGNAL</c>: a name with or without <c>SIG</c> (any case) or a number 1..64;
    /// null when it is none of those.
    /// </summary>
    public static int? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var t = text.Trim();
        if (int.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
            return n is >= 1 and <= 64 ? n : null;
        var upper = t.ToUpperInvariant();
        if (!upper.StartsWith("SIG", StringComparison.Ordinal)) upper = "SIG" + upper;
        var match = Array.Find(Known, k => k.Name == upper);
        return match.Name is null ? null : match.Number;
    }
}
