using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsandbox.Spec.Json;

/// <summary>Gives System.Text.Json the serde form of every spec wire type (and of each variant record, written as its family).</summary>
internal sealed class SpecJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => WireTypeOf(typeToConvert) is not null;

    public override JsonConverter? CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter?)Activator.CreateInstance(typeof(SpecJsonConverter<>).MakeGenericType(typeToConvert), WireTypeOf(typeToConvert));

    /// <summary>The supported type itself, or the variant family a nested variant record belongs to.</summary>
    private static Type? WireTypeOf(Type type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (SpecJsonReader.Supports(current)) return current;
        }
        return null;
    }
}
