namespace Microsandbox.Spec;

/// <summary>An environment variable entry. JSON <c>{"key":...,"value":...}</c>, both required.</summary>
public sealed record EnvVar
{
    /// <summary>Creates an entry with empty key and value.</summary>
    public EnvVar() { }

    /// <summary>Creates an entry.</summary>
    public EnvVar(string key, string value)
    {
        Key = key;
        Value = value;
    }

    /// <summary>Variable name.</summary>
    public string Key { get; init; } = "";

    /// <summary>Variable value.</summary>
    public string Value { get; init; } = "";

    /// <summary>Returns the entry as a key/value tuple.</summary>
    public (string Key, string Value) AsPair() => (Key, Value);
}
