using System.Globalization;
using System.Text;

namespace Microsandbox.Spec.Json;

/// <summary>
/// Compact JSON writer that produces exactly the bytes <c>serde_json::to_string</c> would: no whitespace,
/// only <c>"</c>, <c>\</c> and control characters escaped (short forms where JSON has them, else lowercase
/// <c>\u00xx</c>), everything else written as is.
/// </summary>
internal sealed class SerdeJsonWriter
{
    private readonly StringBuilder _text = new();

    // One entry per open container: whether the next element needs a leading comma.
    private readonly Stack<bool> _needsComma = new();
    private bool _afterName;

    public override string ToString() => _text.ToString();

    public void StartObject() { BeforeValue(); _text.Append('{'); _needsComma.Push(false); }

    public void EndObject() { _needsComma.Pop(); _text.Append('}'); }

    public void StartArray() { BeforeValue(); _text.Append('['); _needsComma.Push(false); }

    public void EndArray() { _needsComma.Pop(); _text.Append(']'); }

    public void Name(string name)
    {
        BeforeValue();
        AppendString(name);
        _text.Append(':');
        _afterName = true;
    }

    public void String(string value) { BeforeValue(); AppendString(value); }

    public void UInt(ulong value) { BeforeValue(); _text.Append(value.ToString(CultureInfo.InvariantCulture)); }

    public void Bool(bool value) { BeforeValue(); _text.Append(value ? "true" : "false"); }

    public void Null() { BeforeValue(); _text.Append("null"); }

    /// <summary>Writes an already formatted JSON number or literal.</summary>
    public void Raw(string token) { BeforeValue(); _text.Append(token); }

    public void Field(string name, bool value) { Name(name); Bool(value); }

    public void Field(string name, ulong value) { Name(name); UInt(value); }

    public void Field(string name, string? value)
    {
        Name(name);
        if (value is null) Null(); else String(value);
    }

    public void Field(string name, ulong? value)
    {
        Name(name);
        if (value is { } v) UInt(v); else Null();
    }

    private void BeforeValue()
    {
        if (_afterName)
        {
            _afterName = false;
            return;
        }
        if (_needsComma.Count == 0) return;
        if (_needsComma.Pop()) _text.Append(',');
        _needsComma.Push(true);
    }

    private void AppendString(string value)
    {
        _text.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': _text.Append("\\\""); break;
                case '\\': _text.Append("\\\\"); break;
                case '\b': _text.Append("\\b"); break;
                case '\f': _text.Append("\\f"); break;
                case '\n': _text.Append("\\n"); break;
                case '\r': _text.Append("\\r"); break;
                case '\t': _text.Append("\\t"); break;
                case < ' ': _text.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)); break;
                default: _text.Append(c); break;
            }
        }
        _text.Append('"');
    }
}
