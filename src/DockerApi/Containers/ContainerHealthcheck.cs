using System.Text.Json;

namespace Microsandbox.DockerApi.Containers;

/// <summary><c>Config.Healthcheck</c>: durations are nanoseconds; zero means the default.</summary>
internal sealed record ContainerHealthcheck(IReadOnlyList<string> Test, TimeSpan? Interval, TimeSpan? Timeout, TimeSpan? StartPeriod, int? Retries)
{
    public static ContainerHealthcheck Parse(JsonElement check) => new(
        ContainerCreateRequest.Strings(check, "Test") ?? [],
        Duration(check, "Interval"),
        Duration(check, "Timeout"),
        Duration(check, "StartPeriod"),
        ContainerCreateRequest.Field(check, "Retries") is { ValueKind: JsonValueKind.Number } r && r.GetInt32() > 0 ? r.GetInt32() : null);

    private static TimeSpan? Duration(JsonElement check, string name) =>
        ContainerCreateRequest.Field(check, name) is { ValueKind: JsonValueKind.Number } n && n.GetInt64() > 0
            ? TimeSpan.FromTicks(n.GetInt64() / 100)
            : null;
}
