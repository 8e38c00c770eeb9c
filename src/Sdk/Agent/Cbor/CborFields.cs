using System.Formats.Cbor;

namespace Microsandbox.Agent.Cbor;

/// <summary>Small helpers shared by the payload records' CBOR readers and writers.</summary>
internal static class CborFields
{
    public static CborWriter NewWriter() => new(CborConformanceMode.Lax, convertIndefiniteLengthEncodings: false);

    public static CborReader NewReader(ReadOnlyMemory<byte> data) => new(data, CborConformanceMode.Lax);

    /// <summary>Reads a map, handing each text key to <paramref name="onField"/>; fields it declines are skipped.</summary>
    public static void ReadMap(CborReader reader, Func<string, bool> onField)
    {
        reader.ReadStartMap();
        while (reader.PeekState() != CborReaderState.EndMap)
        {
            if (reader.PeekState() != CborReaderState.TextString)
            {
                reader.SkipValue();
                reader.SkipValue();
                continue;
            }

            var key = reader.ReadTextString();
            if (!onField(key))
            {
                reader.SkipValue();
            }
        }

        reader.ReadEndMap();
    }

    public static bool IsNull(CborReader reader)
    {
        if (reader.PeekState() is CborReaderState.Null)
        {
            reader.SkipValue();
            return true;
        }

        return false;
    }

    public static string? ReadOptionalString(CborReader reader) => IsNull(reader) ? null : reader.ReadTextString();

    public static uint? ReadOptionalUInt32(CborReader reader) => IsNull(reader) ? null : reader.ReadUInt32();

    public static ulong? ReadOptionalUInt64(CborReader reader) => IsNull(reader) ? null : reader.ReadUInt64();

    public static int? ReadOptionalInt32(CborReader reader) => IsNull(reader) ? null : reader.ReadInt32();

    public static long? ReadOptionalInt64(CborReader reader) => IsNull(reader) ? null : reader.ReadInt64();

    /// <summary>Reads a byte buffer: a byte string, or (as serde_bytes also accepts) an array of small integers.</summary>
    public static byte[] ReadBytes(CborReader reader)
    {
        if (reader.PeekState() == CborReaderState.StartArray)
        {
            return ReadByteArray(reader);
        }

        return reader.ReadByteString();
    }

    /// <summary>Reads a CBOR array of integers 0–255 (how serde encodes <c>[u8; N]</c> and IP addresses).</summary>
    public static byte[] ReadByteArray(CborReader reader)
    {
        var bytes = new List<byte>();
        reader.ReadStartArray();
        while (reader.PeekState() != CborReaderState.EndArray)
        {
            var value = reader.ReadUInt32();
            if (value > byte.MaxValue)
            {
                throw new CborContentException($"byte array element {value} is above 255");
            }

            bytes.Add((byte)value);
        }

        reader.ReadEndArray();
        return [.. bytes];
    }

    public static void WriteByteArray(CborWriter writer, ReadOnlySpan<byte> bytes)
    {
        writer.WriteStartArray(bytes.Length);
        foreach (var b in bytes)
        {
            writer.WriteUInt32(b);
        }

        writer.WriteEndArray();
    }

    public static List<T> ReadArray<T>(CborReader reader, Func<CborReader, T> readItem)
    {
        var items = new List<T>();
        if (IsNull(reader))
        {
            return items;
        }

        reader.ReadStartArray();
        while (reader.PeekState() != CborReaderState.EndArray)
        {
            items.Add(readItem(reader));
        }

        reader.ReadEndArray();
        return items;
    }

    public static void WriteArray<T>(CborWriter writer, IReadOnlyList<T> items, Action<CborWriter, T> writeItem)
    {
        writer.WriteStartArray(items.Count);
        foreach (var item in items)
        {
            writeItem(writer, item);
        }

        writer.WriteEndArray();
    }

    public static void WriteOptional(CborWriter writer, string? value)
    {
        if (value is null) writer.WriteNull(); else writer.WriteTextString(value);
    }

    public static void WriteOptional(CborWriter writer, uint? value)
    {
        if (value is null) writer.WriteNull(); else writer.WriteUInt32(value.Value);
    }

    public static void WriteOptional(CborWriter writer, ulong? value)
    {
        if (value is null) writer.WriteNull(); else writer.WriteUInt64(value.Value);
    }

    public static void WriteOptional(CborWriter writer, int? value)
    {
        if (value is null) writer.WriteNull(); else writer.WriteInt32(value.Value);
    }

    public static void WriteOptional(CborWriter writer, long? value)
    {
        if (value is null) writer.WriteNull(); else writer.WriteInt64(value.Value);
    }

    public static void WriteStrings(CborWriter writer, IReadOnlyList<string> values) =>
        WriteArray(writer, values, static (w, s) => w.WriteTextString(s));

    public static List<string> ReadStrings(CborReader reader) => ReadArray(reader, static r => r.ReadTextString());

    /// <summary>Reads an empty-struct payload (<c>{}</c>); tolerates null or any map.</summary>
    public static void ReadEmpty(CborReader reader)
    {
        if (!IsNull(reader))
        {
            reader.SkipValue();
        }
    }
}
