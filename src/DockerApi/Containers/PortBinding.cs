using System.Globalization;
using System.Text.Json;
using Microsandbox.DockerApi.Http;

namespace Microsandbox.DockerApi.Containers;

/// <summary>One entry of <c>HostConfig.PortBindings["PORT/PROTO"]</c>: an empty host port means a free one.</summary>
internal sealed record PortBinding(string HostIp, int HostPort)
{
    public static IReadOnlyDictionary<string, IReadOnlyList<PortBinding>> ParseMap(JsonElement? map)
    {
        var result = new Dictionary<string, IReadOnlyList<PortBinding>>();
        if (map is not { ValueKind: JsonValueKind.Object } obj) return result;
        foreach (var port in obj.EnumerateObject())
        {
            _ = ContainerPort.Parse(port.Name);
            var bindings = new List<PortBinding>();
            if (port.Value.ValueKind == JsonValueKind.Array)
            {
                foreach (var b in port.Value.EnumerateArray())
                {
                    var ip = ContainerCreateRequest.String(b, "HostIp") ?? "";
                    var text = ContainerCreateRequest.String(b, "HostPort") ?? "";
                    int hostPort = 0;
                    if (text.Length > 0 && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out hostPort) || hostPort is < 1 or > 65535))
                        throw DockerApiException.BadRequest($"PortBindings[{port.Name}].HostPort '{text}' must be a port number (1-65535) or empty for a free one");
                    bindings.Add(new PortBinding(ip, hostPort));
                }
            }
            result[port.Name] = bindings.Count == 0 ? [new PortBinding("", 0)] : bindings;
        }
        return result;
    }
}

/// <summary>A container port as Docker writes it: <c>6379/tcp</c> (the protocol defaults to tcp).</summary>
internal sealed record ContainerPort(ushort Port, string Protocol)
{
    public static ContainerPort Parse(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var number = slash < 0 ? text : text[..slash];
        var protocol = slash < 0 ? "tcp" : text[(slash + 1)..].ToLowerInvariant();
        if (!ushort.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port == 0)
            throw DockerApiException.BadRequest($"port '{text}': expected PORT[/tcp|udp] with a port from 1 to 65535");
        if (protocol is not ("tcp" or "udp")) throw DockerApiException.NotImplemented($"port protocol '{protocol}' in '{text}'");
        return new ContainerPort(port, protocol);
    }

    public override string ToString() => $"{Port}/{Protocol}";
}
