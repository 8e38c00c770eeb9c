using System.Text;

namespace Microsandbox.Spec.Json;

/// <summary>
/// Orders strings by Unicode code point, which is the byte order of their UTF-8 form: the order of a Rust
/// <c>BTreeMap&lt;String, _&gt;</c>. (Plain ordinal UTF-16 order differs for characters above U+FFFF.)
/// </summary>
internal sealed class Utf8OrdinalComparer : IComparer<string>
{
    public static readonly Utf8OrdinalComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var left = x.EnumerateRunes();
        var right = y.EnumerateRunes();
        while (true)
        {
            bool hasLeft = left.MoveNext();
            bool hasRight = right.MoveNext();
            if (!hasLeft || !hasRight) return hasLeft.CompareTo(hasRight);
            int order = left.Current.Value.CompareTo(right.Current.Value);
            if (order != 0) return order;
        }
    }
}
