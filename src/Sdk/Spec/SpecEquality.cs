using System.Text.Json;

namespace Microsandbox.Spec;

/// <summary>
/// Structural equality for the collection-valued members of spec records, so two specs with the same content
/// are equal (a record's generated equality would compare lists by reference).
/// </summary>
internal static class SpecEquality
{
    public static bool Sequence<T>(IReadOnlyList<T>? left, IReadOnlyList<T>? right)
    {
        if (ReferenceEquals(left, right)) return true;
        if (left is null || right is null) return false;
        return left.SequenceEqual(right);
    }

    public static bool Map(IReadOnlyDictionary<string, string> left, IReadOnlyDictionary<string, string> right)
    {
        if (ReferenceEquals(left, right)) return true;
        if (left.Count != right.Count) return false;
        foreach (var (key, value) in left)
        {
            if (!right.TryGetValue(key, out var other) || !string.Equals(value, other, StringComparison.Ordinal)) return false;
        }
        return true;
    }

    public static bool Json(JsonElement? left, JsonElement? right) =>
        (left, right) switch
        {
            (null, null) => true,
            ({ } l, { } r) => JsonElement.DeepEquals(l, r),
            _ => false,
        };

    /// <summary>A hash that agrees with <see cref="Sequence{T}"/>: count plus the first few items.</summary>
    public static int SequenceHash<T>(IReadOnlyList<T>? items)
    {
        if (items is null) return 0;
        var hash = new HashCode();
        hash.Add(items.Count);
        foreach (var item in items.Take(4)) hash.Add(item);
        return hash.ToHashCode();
    }
}
