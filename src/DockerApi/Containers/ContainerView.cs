using System.Text.Json;
using System.Text.Json.Nodes;
using Microsandbox.DockerApi.Endpoints;
using Microsandbox.DockerApi.Http;

namespace Microsandbox.DockerApi.Containers;

/// <summary>A container as Docker shows it: inspect (<c>/containers/{id}/json</c>) and the list summary.</summary>
internal static class ContainerView
{
    // The QEMU engine's user-mode network gives every guest the same address behind its own NAT.
    private const string GuestAddress = "10.0.2.15";

    private static string Gateway => HostAddress.Gateway;

    public static object Inspect(DockerContainer c)
    {
        var config = EffectiveConfig(c);
        var argv = Argv(c);
        return new
        {
            Id = c.Id,
            Created = DockerJson.Time(c.Created),
            Path = argv.FirstOrDefault() ?? "",
            Args = argv.Skip(1).ToList(),
            State = State(c),
            Image = c.Image.Id,
            ResolvConfPath = "",
            HostnamePath = "",
            HostsPath = "",
            LogPath = c.Sandbox?.LogDirectory is { } dir ? Path.Combine(dir, "exec.log") : "",
            Name = "/" + c.Name,
            RestartCount = Math.Max(0, c.RestartCount),
            Driver = "microsandbox",
            Platform = "linux",
            MountLabel = "",
            ProcessLabel = "",
            AppArmorProfile = "",
            ExecIDs = (string[]?)null,
            HostConfig = HostConfig(c),
            GraphDriver = new { Name = "microsandbox", Data = new Dictionary<string, string>() },
            Mounts = c.Request.Mounts.Select(m => new
            {
                Type = m.Type,
                Name = m.Type == "volume" ? m.Source : null,
                Source = m.Source,
                Destination = m.Target,
                Driver = m.Type == "volume" ? "local" : null,
                Mode = m.ReadOnly ? "ro" : "",
                RW = !m.ReadOnly,
                Propagation = "",
            }).ToList(),
            Config = config,
            NetworkSettings = NetworkSettings(c),
        };
    }

    public static object Summary(DockerContainer c) => new
    {
        Id = c.Id,
        Names = new[] { "/" + c.Name },
        Image = c.Request.Image,
        ImageID = c.Image.Id,
        Command = string.Join(' ', Argv(c)),
        Created = c.Created.ToUnixTimeSeconds(),
        Ports = c.Ports.Select(p => new { IP = p.Value.HostIp, PrivatePort = (int)p.Key.Port, PublicPort = p.Value.HostPort, Type = p.Key.Protocol }).ToList(),
        Labels = Labels(c),
        State = StatusText(c.Status),
        Status = c.Status switch
        {
            ContainerStatus.Running => "Up",
            ContainerStatus.Exited => $"Exited ({c.ExitCode})",
            _ => "Created",
        },
        HostConfig = new { NetworkMode = "bridge" },
        NetworkSettings = new { Networks = Networks(c) },
        Mounts = System.Array.Empty<object>(),
    };

    public static string StatusText(ContainerStatus status) => status switch
    {
        ContainerStatus.Running => "running",
        ContainerStatus.Exited => "exited",
        _ => "created",
    };

    /// <summary>The image's labels overlaid with the container's, as Docker merges them.</summary>
    public static Dictionary<string, string> Labels(DockerContainer c)
    {
        var labels = new Dictionary<string, string>(c.Image.Config.Labels);
        foreach (var (k, v) in c.Request.Labels) labels[k] = v;
        return labels;
    }

    private static object State(DockerContainer c)
    {
        var health = c.Status == ContainerStatus.Running && c.Sandbox is { } sb && sb.Health != HealthStatus.None
            ? new
            {
                Status = sb.Health switch { HealthStatus.Healthy => "healthy", HealthStatus.Unhealthy => "unhealthy", _ => "starting" },
                FailingStreak = sb.Health == HealthStatus.Unhealthy ? 1 : 0,
                Log = string.IsNullOrEmpty(sb.LastHealthOutput) ? [] : new[] { new { Start = DockerJson.Time(DateTimeOffset.UtcNow), End = DockerJson.Time(DateTimeOffset.UtcNow), ExitCode = sb.Health == HealthStatus.Healthy ? 0 : 1, Output = sb.LastHealthOutput } },
            }
            : null;
        return new
        {
            Status = StatusText(c.Status),
            Running = c.Status == ContainerStatus.Running,
            Paused = false,
            Restarting = false,
            OOMKilled = false,
            Dead = false,
            Pid = c.Status == ContainerStatus.Running ? c.Sandbox?.ProcessId ?? 0 : 0,
            ExitCode = c.Status == ContainerStatus.Running ? 0 : c.ExitCode,
            Error = c.Error,
            StartedAt = DockerJson.Time(c.StartedAt),
            FinishedAt = DockerJson.Time(c.FinishedAt),
            Health = health,
        };
    }

    private static JsonNode HostConfig(DockerContainer c)
    {
        var host = c.Request.Raw.TryGetProperty("HostConfig", out var h) && h.ValueKind == JsonValueKind.Object
            ? JsonNode.Parse(h.GetRawText())!.AsObject()
            : new JsonObject();
        host["NetworkMode"] ??= "bridge";
        host["PortBindings"] ??= new JsonObject();
        host["AutoRemove"] ??= c.Request.AutoRemove;
        host["Memory"] ??= c.Request.Memory;
        host["NanoCpus"] ??= c.Request.NanoCpus;
        return host;
    }

    private static JsonObject EffectiveConfig(DockerContainer c)
    {
        var image = c.Image.Config;
        var env = new List<string>(image.Env);
        foreach (var entry in c.Request.Env)
        {
            var key = entry.Split('=')[0];
            env.RemoveAll(e => e.Split('=')[0] == key);
            env.Add(entry);
        }
        var exposed = new JsonObject();
        foreach (var p in image.ExposedPorts.Concat(c.Request.ExposedPorts).Select(ContainerPort.Parse).Distinct()) exposed[p.ToString()] = new JsonObject();
        var config = new JsonObject
        {
            ["Hostname"] = c.Request.Hostname ?? c.Id[..12],
            ["Domainname"] = "",
            ["User"] = c.Request.User ?? image.User ?? "",
            ["AttachStdin"] = false,
            ["AttachStdout"] = true,
            ["AttachStderr"] = true,
            ["ExposedPorts"] = exposed,
            ["Tty"] = false,
            ["OpenStdin"] = false,
            ["StdinOnce"] = false,
            ["Env"] = new JsonArray([.. env.Select(e => (JsonNode?)e)]),
            ["Cmd"] = Array(EffectiveCmd(c)),
            ["Image"] = c.Request.Image,
            ["Volumes"] = null,
            ["WorkingDir"] = c.Request.WorkingDir ?? image.WorkingDir ?? "",
            ["Entrypoint"] = Array(c.Request.Entrypoint ?? image.Entrypoint),
            ["OnBuild"] = null,
            ["Labels"] = JsonSerializer.SerializeToNode(Labels(c)),
            ["StopSignal"] = c.Request.StopSignal ?? image.StopSignal ?? "SIGTERM",
        };
        if (c.Request.StopTimeout is { } t) config["StopTimeout"] = t;
        if (c.Request.Raw.TryGetProperty("Healthcheck", out var hc) && hc.ValueKind == JsonValueKind.Object)
            config["Healthcheck"] = JsonNode.Parse(hc.GetRawText());
        return config;
    }

    // Docker's rule: an entrypoint given at create drops the image's CMD unless a Cmd is given too.
    private static IReadOnlyList<string>? EffectiveCmd(DockerContainer c) =>
        c.Request.Cmd ?? (c.Request.Entrypoint is null ? c.Image.Config.Cmd : null);

    private static List<string> Argv(DockerContainer c) =>
        [.. (c.Request.Entrypoint ?? c.Image.Config.Entrypoint ?? []), .. (EffectiveCmd(c) ?? [])];

    private static JsonArray? Array(IReadOnlyList<string>? values) =>
        values is null ? null : new JsonArray([.. values.Select(v => (JsonNode?)v)]);

    private static object NetworkSettings(DockerContainer c)
    {
        var ports = new JsonObject();
        foreach (var p in c.Image.Config.ExposedPorts.Concat(c.Request.ExposedPorts).Concat(c.Request.PortBindings.Keys).Select(ContainerPort.Parse).Distinct())
            ports[p.ToString()] = null;
        foreach (var group in c.Ports.GroupBy(p => p.Key))
        {
            ports[group.Key.ToString()] = new JsonArray([.. group.Select(p => (JsonNode?)new JsonObject
            {
                ["HostIp"] = p.Value.HostIp,
                ["HostPort"] = p.Value.HostPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            })]);
        }
        bool running = c.Status == ContainerStatus.Running;
        return new
        {
            Bridge = "",
            SandboxID = c.Id,
            HairpinMode = false,
            LinkLocalIPv6Address = "",
            LinkLocalIPv6PrefixLen = 0,
            Ports = ports,
            SandboxKey = "",
            SecondaryIPAddresses = (object?)null,
            SecondaryIPv6Addresses = (object?)null,
            EndpointID = running ? c.Id : "",
            Gateway = running ? Gateway : "",
            GlobalIPv6Address = "",
            GlobalIPv6PrefixLen = 0,
            IPAddress = running ? GuestAddress : "",
            IPPrefixLen = running ? 24 : 0,
            IPv6Gateway = "",
            MacAddress = "",
            Networks = Networks(c),
        };
    }

    private static Dictionary<string, object> Networks(DockerContainer c)
    {
        bool running = c.Status == ContainerStatus.Running;
        return new Dictionary<string, object>
        {
            ["bridge"] = new
            {
                IPAMConfig = (object?)null,
                Links = (object?)null,
                Aliases = (object?)null,
                NetworkID = NetworkEndpoints.BridgeId,
                EndpointID = running ? c.Id : "",
                Gateway = running ? Gateway : "",
                IPAddress = running ? GuestAddress : "",
                IPPrefixLen = running ? 24 : 0,
                IPv6Gateway = "",
                GlobalIPv6Address = "",
                GlobalIPv6PrefixLen = 0,
                MacAddress = "",
                DriverOpts = (object?)null,
            },
        };
    }
}
