using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsandbox.Spec.Json;

/// <summary>Bridges one spec type to System.Text.Json: writes the serde bytes raw, reads through <see cref="SpecJsonReader"/>.</summary>
internal sealed class SpecJsonConverter<T> : JsonConverter<T> where T : notnull
{
    private readonly Type _wireType;

    public SpecJsonConverter(Type wireType) => _wireType = wireType;

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var specReader = new SpecJsonReader();
        object value = specReader.Read(_wireType, document.RootElement);
        if (specReader.Errors.Count > 0) throw new JsonException(string.Join("; ", specReader.Errors));
        return value is T typed
            ? typed
            : throw new JsonException($"expected a {typeof(T).Name}, found a {value.GetType().Name}");
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WriteRawValue(SpecJsonWriter.Write(value), skipInputValidation: true);
}
