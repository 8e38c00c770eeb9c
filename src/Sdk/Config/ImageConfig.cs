using System.Collections.Immutable;
using System.Text.Json;

namespace Microsandbox.Config;

/// <summary>
/// What an OCI image's config contributes to a sandbox as defaults: environment, command, entrypoint,
/// working directory, user and labels (plus the informational exposed ports, volumes and stop signal).
/// </summary>
public sealed record ImageConfig
{
    /// <summary>Environment entries in OCI <c>KEY=VALUE</c> form.</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>Default command (OCI <c>Cmd</c>), or null when the image declares none.</summary>
    public IReadOnlyList<string>? Cmd { get; init; }

    /// <summary>Entrypoint (OCI <c>Entrypoint</c>), or null when the image declares none.</summary>
    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary>Working directory of the default process (OCI <c>WorkingDir</c>).</summary>
    public string? WorkingDir { get; init; }

    /// <summary>Default user: <c>uid</c>, <c>uid:gid</c>, <c>name</c> or <c>name:group</c> (OCI <c>User</c>).</summary>
    public string? User { get; init; }

    /// <summary>Ports the image declares as exposed, such as <c>80/tcp</c> (informational).</summary>
    public IReadOnlyList<string> ExposedPorts { get; init; } = [];

    /// <summary>Volume mount points the image declares (informational).</summary>
    public IReadOnlyList<string> Volumes { get; init; } = [];

    /// <summary>Image labels.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Signal for graceful shutdown, such as <c>SIGTERM</c>.</summary>
    public string? StopSignal { get; init; }

    /// <summary>The image's <c>HEALTHCHECK</c>, or null when it declares none.</summary>
    public ImageHealthcheck? Healthcheck { get; init; }

    /// <summary>Reads the <c>config</c> object of an OCI image configuration document.</summary>
    /// <exception cref="MicrosandboxException">The document is not a valid OCI image configuration.</exception>
    public static ImageConfig FromOciConfigJson(ReadOnlySpan<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new MicrosandboxException("failed to parse image config: expected a JSON object");
            }
            if (!document.RootElement.TryGetProperty("config", out var config) || config.ValueKind == JsonValueKind.Null)
            {
                return new ImageConfig();
            }
            return new ImageConfig
            {
                Env = StringArray(config, "Env") ?? [],
                Cmd = StringArray(config, "Cmd"),
                Entrypoint = StringArray(config, "Entrypoint"),
                WorkingDir = String(config, "WorkingDir"),
                User = String(config, "User"),
                ExposedPorts = ObjectKeys(config, "ExposedPorts"),
                Volumes = ObjectKeys(config, "Volumes"),
                Labels = StringMap(config, "Labels"),
                StopSignal = String(config, "StopSignal"),
                Healthcheck = Field(config, "Healthcheck") is { ValueKind: JsonValueKind.Object } h ? ReadHealthcheck(h) : null,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new MicrosandboxException($"failed to parse image config: {e.Message}", e);
        }
    }

    // Durations are nanoseconds; zero or absent means Docker's default.
    private static ImageHealthcheck ReadHealthcheck(JsonElement h)
    {
        var check = new ImageHealthcheck { Test = StringArray(h, "Test") ?? [] };
        if (Nanoseconds(h, "Interval") is { } interval) check = check with { Interval = interval };
        if (Nanoseconds(h, "Timeout") is { } timeout) check = check with { Timeout = timeout };
        if (Nanoseconds(h, "StartPeriod") is { } start) check = check with { StartPeriod = start };
        if (Field(h, "Retries") is { ValueKind: JsonValueKind.Number } r && r.TryGetInt32(out var retries) && retries > 0) check = check with { Retries = retries };
        return check;
    }

    private static TimeSpan? Nanoseconds(JsonElement obj, string name) =>
        Field(obj, name) is { ValueKind: JsonValueKind.Number } n && n.TryGetInt64(out var ns) && ns > 0 ? TimeSpan.FromTicks(ns / 100) : null;

    private static JsonElement? Field(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string? String(JsonElement obj, string name) => Field(obj, name)?.GetString();

    private static IReadOnlyList<string>? StringArray(JsonElement obj, string name) =>
        Field(obj, name) is { } array ? array.EnumerateArray().Select(e => e.GetString() ?? "").ToArray() : null;

    private static IReadOnlyList<string> ObjectKeys(JsonElement obj, string name) =>
        Field(obj, name) is { } map ? map.EnumerateObject().Select(p => p.Name).ToArray() : [];

    private static IReadOnlyDictionary<string, string> StringMap(JsonElement obj, string name)
    {
        if (Field(obj, name) is not { } map)
        {
            return ImmutableDictionary<string, string>.Empty;
        }
        var builder = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var property in map.EnumerateObject())
        {
            builder[property.Name] = property.Value.GetString() ?? "";
        }
        return builder.ToImmutable();
    }
}
