using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Microsandbox.Spec.Json;

/// <summary>
/// Writes an opaque JSON value the way a round trip through <c>serde_json::Value</c> would: object keys sorted
/// by UTF-8 bytes with the last duplicate winning, integers kept exact, other numbers reformatted as Rust
/// prints an <c>f64</c>.
/// </summary>
internal static class JsonValueWriter
{
    public static void Write(SerdeJsonWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new SortedDictionary<string, JsonElement>(Utf8OrdinalComparer.Instance);
                foreach (var property in value.EnumerateObject()) members[property.Name] = property.Value;
                writer.StartObject();
                foreach (var (name, member) in members)
                {
                    writer.Name(name);
                    Write(writer, member);
                }
                writer.EndObject();
                break;
            case JsonValueKind.Array:
                writer.StartArray();
                foreach (var item in value.EnumerateArray()) Write(writer, item);
                writer.EndArray();
                break;
            case JsonValueKind.String:
                writer.String(value.GetString()!);
                break;
            case JsonValueKind.Number:
                writer.Raw(FormatNumber(value.GetRawText()));
                break;
            case JsonValueKind.True:
                writer.Bool(true);
                break;
            case JsonValueKind.False:
                writer.Bool(false);
                break;
            default:
                writer.Null();
                break;
        }
    }

    /// <summary>
    /// serde_json keeps a number as u64 when it is a non-negative integer that fits, as i64 when it is a
    /// negative integer that fits (but not <c>-0</c>), and as f64 otherwise.
    /// </summary>
    public static string FormatNumber(string raw)
    {
        bool isInteger = raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0;
        if (isInteger)
        {
            if (raw[0] != '-' && ulong.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var unsigned))
                return unsigned.ToString(CultureInfo.InvariantCulture);
            if (raw[0] == '-' && long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var signed) && signed != 0)
                return signed.ToString(CultureInfo.InvariantCulture);
        }
        double number = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
        return FormatDouble(number);
    }

    /// <summary>Formats a finite double like Rust's <c>ryu</c> (what serde_json uses): shortest digits, <c>1.0</c>, <c>1e21</c>, <c>1.5e-7</c>.</summary>
    public static string FormatDouble(double number)
    {
        if (!double.IsFinite(number)) throw new ArgumentOutOfRangeException(nameof(number), number, "number out of range");
        if (number == 0) return double.IsNegative(number) ? "-0.0" : "0.0";

        // "R" gives the shortest round-tripping digits; re-derive them as digits × 10^exponent.
        string roundTrip = Math.Abs(number).ToString("R", CultureInfo.InvariantCulture);
        int exponentAt = roundTrip.IndexOfAny(['E', 'e']);
        string mantissa = exponentAt < 0 ? roundTrip : roundTrip[..exponentAt];
        int exponent = exponentAt < 0 ? 0 : int.Parse(roundTrip[(exponentAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int point = mantissa.IndexOf('.', StringComparison.Ordinal);
        string digits = point < 0 ? mantissa : mantissa.Remove(point, 1);
        int integerDigits = point < 0 ? mantissa.Length : point;
        int leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        // value = 0.digits × 10^pointPosition
        int pointPosition = integerDigits - leadingZeros + exponent;
        int length = digits.Length;
        int k = pointPosition - length;

        var text = new StringBuilder();
        if (double.IsNegative(number)) text.Append('-');
        if (k >= 0 && pointPosition <= 16)
        {
            text.Append(digits).Append('0', k).Append(".0");
        }
        else if (pointPosition > 0 && pointPosition <= 16)
        {
            text.Append(digits, 0, pointPosition).Append('.').Append(digits, pointPosition, length - pointPosition);
        }
        else if (pointPosition > -5 && pointPosition <= 0)
        {
            text.Append("0.").Append('0', -pointPosition).Append(digits);
        }
        else
        {
            text.Append(digits[0]);
            if (length > 1) text.Append('.').Append(digits, 1, length - 1);
            text.Append('e').Append((pointPosition - 1).ToString(CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
