using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;

namespace Microsandbox.Spec.Json;

/// <content>Scalars, lists, maps and tagged-enum framing, with serde's acceptance rules.</content>
internal sealed partial class SpecJsonReader
{
    private readonly List<SpecProblem> _errors = [];
    private readonly List<SpecProblem> _warnings = [];

    public IReadOnlyList<SpecProblem> Errors => _errors;

    public IReadOnlyList<SpecProblem> Warnings => _warnings;

    public void Error(string path, string message) => _errors.Add(new SpecProblem(path, message));

    public void Warning(string path, string message) => _warnings.Add(new SpecProblem(path, message));

    /// <summary>Opens an object for field-by-field reading, or reports that it is not one.</summary>
    private JsonFields? Open(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Object) return new JsonFields(this, e, path);
        Error(path, "expected an object");
        return null;
    }

    /// <summary>An optional field: its value read, or the fallback when absent.</summary>
    private static T Opt<T>(JsonFields f, string name, Func<JsonElement, string, T> read, T fallback) =>
        f.TryGet(name, out var value, out var path) ? read(value, path) : fallback;

    /// <summary>A required field: its value read, or the fallback after reporting it missing.</summary>
    private static T Req<T>(JsonFields f, string name, Func<JsonElement, string, T> read, T fallback) =>
        f.Require(name, out var value, out var path) ? read(value, path) : fallback;

    private string Str(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.String)
        {
            Error(path, "expected a string");
            return "";
        }
        try
        {
            return e.GetString()!;
        }
        catch (InvalidOperationException)
        {
            Error(path, "invalid string (unpaired surrogate escape)");
            return "";
        }
    }

    private string? OptStr(JsonElement e, string path) =>
        e.ValueKind == JsonValueKind.Null ? null : Str(e, path);

    private bool Bool(JsonElement e, string path)
    {
        if (e.ValueKind is JsonValueKind.True or JsonValueKind.False) return e.GetBoolean();
        Error(path, "expected a boolean (true or false)");
        return false;
    }

    private ulong UInt(JsonElement e, string path, ulong max)
    {
        if (e.ValueKind == JsonValueKind.Number)
        {
            string raw = e.GetRawText();
            // Fractions and exponents make a float in serde_json, which no integer field accepts.
            if (raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0
                && ulong.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                && value <= max)
            {
                return value;
            }
        }
        Error(path, $"expected an integer 0..{max.ToString(CultureInfo.InvariantCulture)}");
        return 0;
    }

    private byte U8(JsonElement e, string path) => (byte)UInt(e, path, byte.MaxValue);

    private ushort U16(JsonElement e, string path) => (ushort)UInt(e, path, ushort.MaxValue);

    private uint U32(JsonElement e, string path) => (uint)UInt(e, path, uint.MaxValue);

    private ulong U64(JsonElement e, string path) => UInt(e, path, ulong.MaxValue);

    private uint? OptU32(JsonElement e, string path) =>
        e.ValueKind == JsonValueKind.Null ? null : (uint)UInt(e, path, uint.MaxValue);

    private ulong? OptU64(JsonElement e, string path) =>
        e.ValueKind == JsonValueKind.Null ? null : UInt(e, path, ulong.MaxValue);

    private TEnum Enum<TEnum>(JsonElement e, string path) where TEnum : struct, Enum
    {
        var names = WireNames.Of<TEnum>();
        string choices = string.Join(", ", names.Select(JsonPath.Quote));
        if (e.ValueKind != JsonValueKind.String)
        {
            Error(path, $"expected a string, one of {choices}");
            return default;
        }
        string text = Str(e, path);
        for (int i = 0; i < names.Count; i++)
        {
            if (names[i] == text) return (TEnum)System.Enum.ToObject(typeof(TEnum), i);
        }
        Error(path, $"unknown value {JsonPath.Quote(text)}, expected one of {choices}");
        return default;
    }

    private TEnum? OptEnum<TEnum>(JsonElement e, string path) where TEnum : struct, Enum =>
        e.ValueKind == JsonValueKind.Null ? null : Enum<TEnum>(e, path);

    private IReadOnlyList<T> List<T>(JsonElement e, string path, Func<JsonElement, string, T> item)
    {
        if (e.ValueKind != JsonValueKind.Array)
        {
            Error(path, "expected an array");
            return [];
        }
        var items = new List<T>(e.GetArrayLength());
        int index = 0;
        foreach (var element in e.EnumerateArray()) items.Add(item(element, JsonPath.Index(path, index++)));
        return items.AsReadOnly();
    }

    private IReadOnlyList<string> Strings(JsonElement e, string path) => List(e, path, Str);

    private IReadOnlyList<string>? OptStrings(JsonElement e, string path) =>
        e.ValueKind == JsonValueKind.Null ? null : Strings(e, path);

    /// <summary>A Rust <c>Vec&lt;(String, String)&gt;</c>: an array of two-string arrays.</summary>
    private IReadOnlyList<(string Key, string Value)> Pairs(JsonElement e, string path) => List(e, path, Pair);

    private (string Key, string Value) Pair(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != 2)
        {
            Error(path, "expected a [key, value] array of two strings");
            return ("", "");
        }
        return (Str(e[0], JsonPath.Index(path, 0)), Str(e[1], JsonPath.Index(path, 1)));
    }

    /// <summary>A Rust <c>BTreeMap&lt;String, String&gt;</c>: an object of strings; a repeated key keeps its last value.</summary>
    private IReadOnlyDictionary<string, string> Map(JsonElement e, string path)
    {
        var map = ImmutableSortedDictionary.CreateBuilder<string, string>(Utf8OrdinalComparer.Instance);
        if (e.ValueKind != JsonValueKind.Object)
        {
            Error(path, "expected an object of strings");
            return map.ToImmutable();
        }
        foreach (var member in e.EnumerateObject())
            map[member.Name] = Str(member.Value, JsonPath.Member(path, member.Name));
        return map.ToImmutable();
    }

    /// <summary>An <c>Option&lt;serde_json::Value&gt;</c>: any JSON, <c>null</c> meaning absent.</summary>
    private JsonElement? OptValue(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        CheckValue(e, path);
        return e.Clone();
    }

    private void CheckValue(JsonElement e, string path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var member in e.EnumerateObject()) CheckValue(member.Value, JsonPath.Member(path, member.Name));
                break;
            case JsonValueKind.Array:
                int index = 0;
                foreach (var item in e.EnumerateArray()) CheckValue(item, JsonPath.Index(path, index++));
                break;
            case JsonValueKind.Number:
                if (!double.IsFinite(double.Parse(e.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture)))
                    Error(path, "number out of range");
                break;
            case JsonValueKind.String:
                Str(e, path);
                break;
        }
    }

    /// <summary>
    /// Frames a serde externally tagged enum with data: an object with exactly one member whose name is the variant.
    /// </summary>
    private bool Variant(JsonElement e, string path, IReadOnlyList<string> variants, out string variant, out JsonElement payload, out string payloadPath)
    {
        variant = "";
        payload = default;
        payloadPath = path;
        string choices = string.Join(", ", variants.Select(JsonPath.Quote));
        if (e.ValueKind != JsonValueKind.Object || e.GetPropertyCount() != 1)
        {
            Error(path, $"expected an object with exactly one key, one of {choices}");
            return false;
        }
        var member = e.EnumerateObject().First();
        if (!variants.Contains(member.Name))
        {
            Error(path, $"unknown variant {JsonPath.Quote(member.Name)}, expected one of {choices}");
            return false;
        }
        variant = member.Name;
        payload = member.Value;
        payloadPath = JsonPath.Member(path, member.Name);
        return true;
    }
}
