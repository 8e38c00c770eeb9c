using System.Formats.Cbor;
using System.Text.Json;

namespace Microsandbox.Runtime;

/// <summary>
/// Re-encodes a serde-shaped JSON document as the CBOR serde would write for the same value (maps with text keys in
/// document order, integers as integers). The launch config carries the guest bootstrap as JSON; the guest wants it as
/// a CBOR payload, and both are serde renderings of one struct, so no second set of types is needed.
/// </summary>
internal static class JsonToCbor
{
    /// <summary>Encodes <paramref name="element"/>.</summary>
    public static byte[] Encode(JsonElement element)
    {
        var writer = new CborWriter(CborConformanceMode.Lax, convertIndefiniteLengthEncodings: false, allowMultipleRootLevelValues: false);
        Write(writer, element);
        return writer.Encode();
    }

    private static void Write(CborWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var props = element.EnumerateObject().ToList();
                writer.WriteStartMap(props.Count);
                foreach (var p in props)
                {
                    writer.WriteTextString(p.Name);
                    Write(writer, p.Value);
                }
                writer.WriteEndMap();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray(element.GetArrayLength());
                foreach (var item in element.EnumerateArray()) Write(writer, item);
                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteTextString(element.GetString()!);
                break;
            case JsonValueKind.Number:
                if (element.TryGetInt64(out var l)) writer.WriteInt64(l);
                else if (element.TryGetUInt64(out var u)) writer.WriteUInt64(u);
                else writer.WriteDouble(element.GetDouble());
                break;
            case JsonValueKind.True:
                writer.WriteBoolean(true);
                break;
            case JsonValueKind.False:
                writer.WriteBoolean(false);
                break;
            default:
                writer.WriteNull();
                break;
        }
    }
}
