using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsandbox.Runtime;

/// <summary>
/// <c>logs/health.json</c>: the main process's health as the sandbox process last found it, for every reader (the
/// creating process's handle, <c>inspect</c>, a detached sandbox's CLI). Written whole by rename, read bounded.
/// </summary>
internal sealed record HealthState(
    [property: JsonPropertyName("status")] HealthStatus Status,
    [property: JsonPropertyName("failing_streak")] int FailingStreak,
    [property: JsonPropertyName("last_output")] string LastOutput,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt)
{
    public const string FileName = "health.json";
    private const int MaxBytes = 64 * 1024;
    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) } };

    public static HealthState? Read(string logDir)
    {
        var path = Path.Combine(logDir, FileName);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxBytes) return null;
            return JsonSerializer.Deserialize<HealthState>(File.ReadAllBytes(path), Json);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Write(string logDir)
    {
        var path = Path.Combine(logDir, FileName);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(this, Json));
        File.Move(temp, path, overwrite: true);
    }
}
