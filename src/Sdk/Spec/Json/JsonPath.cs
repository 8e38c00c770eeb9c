namespace Microsandbox.Spec.Json;

/// <summary>Builds the JSON paths used in error messages: <c>$.mounts[0].guest</c>, <c>$.labels["a b"]</c>.</summary>
internal static class JsonPath
{
    public const string Root = "$";

    public static string Member(string parent, string name) =>
        IsPlainName(name) ? $"{parent}.{name}" : $"{parent}[{Quote(name)}]";

    public static string Index(string parent, int index) => $"{parent}[{index}]";

    /// <summary>Quotes text as a JSON string, so odd characters in names stay readable on one line.</summary>
    public static string Quote(string text)
    {
        var writer = new SerdeJsonWriter();
        writer.String(text);
        return writer.ToString();
    }

    private static bool IsPlainName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
