using System.Text.Json;

namespace Microsandbox.Spec.Json;

/// <summary>
/// The members of one JSON object being read as a struct: looks fields up by name, reports duplicates as
/// errors (as serde does for struct fields) and, at the end, every member nobody asked for as an ignored-field warning.
/// </summary>
internal sealed class JsonFields
{
    private readonly SpecJsonReader _reader;
    private readonly JsonElement _object;
    private readonly HashSet<string> _asked = new(StringComparer.Ordinal);

    public JsonFields(SpecJsonReader reader, JsonElement obj, string path)
    {
        _reader = reader;
        _object = obj;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Finds a field; <see langword="false"/> when it is absent or given twice (the latter is reported).</summary>
    public bool TryGet(string name, out JsonElement value, out string path) => Lookup(name, out value, out path) == Presence.Found;

    /// <summary>Finds a field that must be present; reports it missing otherwise.</summary>
    public bool Require(string name, out JsonElement value, out string path)
    {
        var presence = Lookup(name, out value, out path);
        if (presence == Presence.Missing) _reader.Error(path, "missing required field");
        return presence == Presence.Found;
    }

    /// <summary>Reports every member that no <see cref="TryGet"/>/<see cref="Require"/> asked for.</summary>
    public void WarnUnknown()
    {
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in _object.EnumerateObject())
        {
            if (!_asked.Contains(member.Name) && reported.Add(member.Name))
                _reader.Warning(JsonPath.Member(Path, member.Name), "unknown field, ignored");
        }
    }

    private Presence Lookup(string name, out JsonElement value, out string path)
    {
        _asked.Add(name);
        path = JsonPath.Member(Path, name);
        value = default;
        var presence = Presence.Missing;
        foreach (var member in _object.EnumerateObject())
        {
            if (!member.NameEquals(name)) continue;
            if (presence == Presence.Found)
            {
                _reader.Error(path, "duplicate field");
                value = default;
                return Presence.Duplicate;
            }
            presence = Presence.Found;
            value = member.Value;
        }
        return presence;
    }

    private enum Presence { Missing, Found, Duplicate }
}
