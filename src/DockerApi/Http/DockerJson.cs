using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace Microsandbox.DockerApi.Http;

/// <summary>Docker's JSON conventions: PascalCase names as written, RFC 3339 times, errors as <c>{"message": ...}</c>.</summary>
internal static class DockerJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = null,
        PropertyNameCaseInsensitive = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static IResult Ok(object value, int status = 200) => Results.Json(value, Options, statusCode: status);

    public static IResult Error(int status, string message) => Results.Json(new { message }, Options, statusCode: status);

    /// <summary>Docker's time format: RFC 3339 with nanoseconds; the zero time for "never".</summary>
    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture) : "0001-01-01T00:00:00Z";

    /// <summary>Reads a JSON body; an empty body is an empty object.</summary>
    public static async Task<JsonElement> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (buffer.Length == 0) return JsonDocument.Parse("{}").RootElement.Clone();
        try
        {
            using var doc = JsonDocument.Parse(buffer.ToArray());
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw DockerApiException.BadRequest($"the request body is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>A boolean query parameter as Docker reads it: <c>1</c>, <c>true</c> (any case); absent is <paramref name="fallback"/>.</summary>
    public static bool Flag(HttpRequest request, string name, bool fallback = false)
    {
        var value = request.Query[name].ToString();
        return value.Length == 0 ? fallback : value is "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase);
    }
}
