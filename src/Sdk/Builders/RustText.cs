using System.Globalization;
using System.Text;

namespace Microsandbox;

/// <summary>
/// Renders values the way upstream's error messages print them, so our error text matches theirs:
/// Rust's <c>{:?}</c> for strings (quoted, escaped) and <c>Path::extension</c> semantics.
/// </summary>
internal static class RustText
{
    /// <summary>A string as Rust's <c>Debug</c> format prints it: double-quoted with escapes.</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        foreach (var rune in value.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\0': sb.Append("\\0"); break;
                default:
                    if (Rune.IsControl(rune))
                    {
                        sb.Append("\\u{").Append(rune.Value.ToString("x", CultureInfo.InvariantCulture)).Append('}');
                    }
                    else
                    {
                        sb.Append(rune.ToString());
                    }
                    break;
            }
        }
        sb.Append('"');
        return sb.ToString();
    }

    /// <summary>
    /// The extension of a path's last component as Rust's <c>Path::extension</c> defines it: none for
    /// <c>.</c>, <c>..</c>, an empty name, or a dot-file without another dot; otherwise the text after the last dot.
    /// </summary>
    public static string? Extension(string path)
    {
        var fileName = FileName(path);
        if (fileName is null)
        {
            return null;
        }
        var dot = fileName.LastIndexOf('.');
        if (dot <= 0)
        {
            return null;
        }
        return fileName[(dot + 1)..];
    }

    /// <summary>The last normal component of a path (Rust <c>Path::file_name</c>), or null.</summary>
    public static string? FileName(string path)
    {
        var trimmed = path.TrimEnd('/');
        // Rust drops trailing "." components ("a/b/." names "b"), but ".." has no file name.
        while (trimmed.EndsWith("/.", StringComparison.Ordinal))
        {
            trimmed = trimmed[..^2].TrimEnd('/');
        }
        var slash = trimmed.LastIndexOf('/');
        var last = slash < 0 ? trimmed : trimmed[(slash + 1)..];
        return last is "" or "." or ".." ? null : last;
    }
}
