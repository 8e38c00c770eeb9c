using System.Formats.Cbor;
using System.Text.Json;

namespace Microsandbox.Runtime;

/// <summary>
/// Re-encodes a serde-shaped JSON document as the CBOR serde would write for the same value (maps with text keys in
/// document order, integers as integers). The launch config carries the guest bootstrap as JSON; the guest wants it as
/// a CBOR payload, and both are serde renderings of one struct, so no second set of types is needed. The one place the
/// two renderings differ is IP addresses: serde writes them as strings for JSON (human-readable) and as octet arrays
/// for CBOR, so <c>address</c>, <c>gateway</c> and <c>dns</c> strings that parse as IPs become octet arrays.
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
                    if (p.Name is "address" or "gateway" or "dns" && p.Value.ValueKind == JsonValueKind.String
                        && System.Net.IPAddress.TryParse(p.Value.GetString(), out var ip))
                    {
                        var octets = ip.GetAddressBytes();
                        writer.WriteStartArray(octets.Length);
                        foreach (var b in octets) writer.WriteUInt32(b);
                        writer.WriteEndArray();
                        continue;
                    }
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
