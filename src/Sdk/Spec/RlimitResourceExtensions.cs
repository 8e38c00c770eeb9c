namespace Microsandbox.Spec;

/// <summary>Lowercase names and case-insensitive parsing for <see cref="RlimitResource"/>.</summary>
public static class RlimitResourceExtensions
{
    private static readonly RlimitResource[] All = Enum.GetValues<RlimitResource>();

    /// <summary>Returns the lowercase name used by the guest (<c>nofile</c>, <c>as</c>, ...).</summary>
    public static string AsStr(this RlimitResource resource) =>
        Enum.IsDefined(resource)
            ? resource.ToString().ToLowerInvariant()
            : throw new ArgumentOutOfRangeException(nameof(resource), resource, "unknown rlimit resource");

    /// <summary>Parses a resource name, ignoring ASCII case (<c>NOFILE</c> → <see cref="RlimitResource.Nofile"/>).</summary>
    /// <exception cref="FormatException">Unknown name (message <c>unknown rlimit resource: TEXT</c>).</exception>
    public static RlimitResource Parse(string text) =>
        TryParse(text, out var resource) ? resource : throw new FormatException($"unknown rlimit resource: {text}");

    /// <summary>Parses a resource name, ignoring ASCII case; returns <see langword="false"/> if it names none.</summary>
    public static bool TryParse(string text, out RlimitResource resource)
    {
        foreach (var candidate in All)
        {
            if (AsciiEqualsIgnoreCase(candidate.AsStr(), text))
            {
                resource = candidate;
                return true;
            }
        }
        resource = default;
        return false;
    }

    // Upstream lowercases ASCII only, so "ﬁ"-style Unicode folding must not match.
    private static bool AsciiEqualsIgnoreCase(string lower, string text) =>
        lower.Length == text.Length && System.Text.Ascii.EqualsIgnoreCase(lower, text);
}
