using System.Text.Json;
using Microsandbox.DockerApi.Http;

namespace Microsandbox.DockerApi.Containers;

/// <summary>
/// The body of <c>POST /containers/create</c>, read field by field: the fields the server honours, and the ones it
/// must refuse because a sandbox cannot honour them (never silently dropped). Unknown or default-valued fields of
/// Docker's schema are ignored, as Docker ignores them.
/// </summary>
internal sealed record ContainerCreateRequest
{
    public required string Image { get; init; }
    public IReadOnlyList<string>? Entrypoint { get; init; }
    public IReadOnlyList<string>? Cmd { get; init; }
    public IReadOnlyList<string> Env { get; init; } = [];
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> ExposedPorts { get; init; } = [];
    public string? Hostname { get; init; }
    public string? WorkingDir { get; init; }
    public string? User { get; init; }
    public string? StopSignal { get; init; }
    public int? StopTimeout { get; init; }
    public ContainerHealthcheck? Healthcheck { get; init; }
    public IReadOnlyDictionary<string, IReadOnlyList<PortBinding>> PortBindings { get; init; } = new Dictionary<string, IReadOnlyList<PortBinding>>();
    public bool PublishAllPorts { get; init; }
    public IReadOnlyList<ContainerMount> Mounts { get; init; } = [];
    public long Memory { get; init; }
    public long NanoCpus { get; init; }
    public bool AutoRemove { get; init; }
    public IReadOnlyList<string> ExtraHosts { get; init; } = [];

    /// <summary>The request's JSON as sent, echoed in inspect's <c>Config</c> and <c>HostConfig</c>.</summary>
    public JsonElement Raw { get; init; }

    public static ContainerCreateRequest Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw DockerApiException.BadRequest("container config: the body must be a JSON object");
        var host = Field(body, "HostConfig") is { ValueKind: JsonValueKind.Object } h ? h : default;
        RefuseUnsupported(body, host);
        var image = String(body, "Image");
        if (string.IsNullOrWhiteSpace(image)) throw DockerApiException.BadRequest("config: Image is required");
        var mounts = new List<ContainerMount>();
        foreach (var bind in Strings(host, "Binds") ?? []) mounts.Add(ContainerMount.FromBind(bind));
        if (Field(host, "Mounts") is { ValueKind: JsonValueKind.Array } list)
            foreach (var m in list.EnumerateArray()) mounts.Add(ContainerMount.FromMount(m));
        if (Field(host, "Tmpfs") is { ValueKind: JsonValueKind.Object } tmpfs)
            foreach (var t in tmpfs.EnumerateObject()) mounts.Add(new ContainerMount("tmpfs", "", t.Name, false));
        return new ContainerCreateRequest
        {
            Image = image,
            // An empty list means "the image's", as Docker reads it (Testcontainers always sends "Cmd": []).
            Entrypoint = Strings(body, "Entrypoint") is { Count: > 0 } entrypoint ? entrypoint : null,
            Cmd = Strings(body, "Cmd") is { Count: > 0 } cmd ? cmd : null,
            Env = Strings(body, "Env") ?? [],
            Labels = StringMap(body, "Labels"),
            ExposedPorts = Field(body, "ExposedPorts") is { ValueKind: JsonValueKind.Object } ports ? ports.EnumerateObject().Select(p => p.Name).ToList() : [],
            Hostname = NonEmpty(String(body, "Hostname")),
            WorkingDir = NonEmpty(String(body, "WorkingDir")),
            User = NonEmpty(String(body, "User")),
            StopSignal = NonEmpty(String(body, "StopSignal")),
            StopTimeout = Field(body, "StopTimeout") is { ValueKind: JsonValueKind.Number } st ? st.GetInt32() : null,
            Healthcheck = Field(body, "Healthcheck") is { ValueKind: JsonValueKind.Object } hc ? ContainerHealthcheck.Parse(hc) : null,
            PortBindings = PortBinding.ParseMap(Field(host, "PortBindings")),
            PublishAllPorts = Field(host, "PublishAllPorts") is { ValueKind: JsonValueKind.True },
            Mounts = mounts,
            Memory = Field(host, "Memory") is { ValueKind: JsonValueKind.Number } mem ? mem.GetInt64() : 0,
            NanoCpus = Field(host, "NanoCpus") is { ValueKind: JsonValueKind.Number } cpu ? cpu.GetInt64() : 0,
            AutoRemove = Field(host, "AutoRemove") is { ValueKind: JsonValueKind.True },
            ExtraHosts = Strings(host, "ExtraHosts") ?? [],
            Raw = body.Clone(),
        };
    }

    // Settings a sandbox cannot honour: refused by name rather than ignored.
    private static void RefuseUnsupported(JsonElement body, JsonElement host)
    {
        if (Field(body, "Tty") is { ValueKind: JsonValueKind.True }) throw DockerApiException.NotImplemented("Tty (a terminal for the container's main process)");
        if (Field(body, "OpenStdin") is { ValueKind: JsonValueKind.True }) throw DockerApiException.NotImplemented("OpenStdin (stdin for the container's main process)");
        if (Field(host, "Privileged") is { ValueKind: JsonValueKind.True }) throw DockerApiException.NotImplemented("HostConfig.Privileged");
        foreach (var name in new[] { "CapAdd", "Devices", "VolumesFrom", "Links", "DeviceRequests" })
        {
            if (Field(host, name) is { ValueKind: JsonValueKind.Array } a && a.GetArrayLength() > 0) throw DockerApiException.NotImplemented($"HostConfig.{name}");
        }
        if (NonEmpty(String(host, "NetworkMode")) is { } mode && mode is not ("default" or "bridge"))
            throw DockerApiException.NotImplemented($"HostConfig.NetworkMode '{mode}' (each container has its own user-mode network; only 'bridge' is offered)");
        if (Field(body, "NetworkingConfig") is { ValueKind: JsonValueKind.Object } net
            && Field(net, "EndpointsConfig") is { ValueKind: JsonValueKind.Object } endpoints)
        {
            foreach (var endpoint in endpoints.EnumerateObject())
            {
                if (endpoint.Name is not ("bridge" or "default")) throw DockerApiException.NotImplemented($"network '{endpoint.Name}' (containers cannot share a network yet)");
            }
        }
    }

    internal static JsonElement? Field(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    internal static string? String(JsonElement obj, string name) => Field(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        _ => throw DockerApiException.BadRequest($"{name} must be a string"),
    };

    // Docker accepts a string or an array of strings for Cmd and Entrypoint (a string is one element).
    internal static IReadOnlyList<string>? Strings(JsonElement obj, string name) => Field(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } s => [s.GetString()!],
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw DockerApiException.BadRequest($"{name} must hold strings")).ToList(),
        _ => throw DockerApiException.BadRequest($"{name} must be an array of strings"),
    };

    internal static IReadOnlyDictionary<string, string> StringMap(JsonElement obj, string name) => Field(obj, name) switch
    {
        null => new Dictionary<string, string>(),
        { ValueKind: JsonValueKind.Object } o => o.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw DockerApiException.BadRequest($"{name}.{p.Name} must be a string")),
        _ => throw DockerApiException.BadRequest($"{name} must be an object of strings"),
    };

    /// <summary>Docker's <c>KEY=VALUE</c> environment entries as pairs, in order; an entry without '=' is refused.</summary>
    internal static IEnumerable<KeyValuePair<string, string>> EnvPairs(IEnumerable<string> entries)
    {
        foreach (var entry in entries)
        {
            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw DockerApiException.BadRequest($"Env entry '{entry}': expected KEY=VALUE");
            yield return new(entry[..eq], entry[(eq + 1)..]);
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
