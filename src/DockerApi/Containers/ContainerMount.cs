using System.Text.Json;
using Microsandbox.DockerApi.Http;

namespace Microsandbox.DockerApi.Containers;

/// <summary>A mount of a container: <c>bind</c> (host path), <c>volume</c> (named volume) or <c>tmpfs</c>.</summary>
internal sealed record ContainerMount(string Type, string Source, string Target, bool ReadOnly)
{
    /// <summary><c>HostConfig.Binds</c>: <c>SOURCE:TARGET[:OPTIONS]</c>, an absolute source is a host path, else a volume name.</summary>
    public static ContainerMount FromBind(string bind)
    {
        var parts = bind.Split(':');
        if (parts.Length is < 2 or > 3 || parts[0].Length == 0 || !parts[1].StartsWith('/'))
            throw DockerApiException.BadRequest($"Binds entry '{bind}': expected SOURCE:TARGET[:ro|rw] with an absolute TARGET");
        bool readOnly = false;
        if (parts.Length == 3)
        {
            foreach (var option in parts[2].Split(','))
            {
                if (option == "ro") readOnly = true;
                else if (option is "rw" or "z" or "Z" or "rprivate" or "private") continue;
                else throw DockerApiException.NotImplemented($"bind option '{option}' in '{bind}'");
            }
        }
        return new ContainerMount(parts[0].StartsWith('/') ? "bind" : "volume", parts[0], parts[1], readOnly);
    }

    /// <summary>One entry of <c>HostConfig.Mounts</c>.</summary>
    public static ContainerMount FromMount(JsonElement mount)
    {
        var type = ContainerCreateRequest.String(mount, "Type") ?? "volume";
        var source = ContainerCreateRequest.String(mount, "Source") ?? "";
        var target = ContainerCreateRequest.String(mount, "Target") ?? "";
        if (!target.StartsWith('/')) throw DockerApiException.BadRequest($"Mounts: Target '{target}' must be an absolute path");
        bool readOnly = ContainerCreateRequest.Field(mount, "ReadOnly") is { ValueKind: JsonValueKind.True };
        return type switch
        {
            "bind" when !source.StartsWith('/') => throw DockerApiException.BadRequest($"Mounts: bind Source '{source}' must be an absolute host path"),
            "bind" or "tmpfs" => new ContainerMount(type, source, target, readOnly),
            "volume" => new ContainerMount(type, source.Length > 0 ? source : Guid.NewGuid().ToString("N"), target, readOnly),
            _ => throw DockerApiException.NotImplemented($"mount type '{type}'"),
        };
    }
}
