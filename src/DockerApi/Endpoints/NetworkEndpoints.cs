using Microsandbox.DockerApi.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsandbox.DockerApi.Endpoints;

/// <summary>
/// Networks: every container sits alone behind its own user-mode NAT, shown as Docker's default <c>bridge</c>.
/// Creating or joining other networks is refused at once with Docker's error shape (never a hang).
/// </summary>
internal static class NetworkEndpoints
{
    public const string BridgeId = "microsandbox-bridge";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/networks", () => DockerJson.Ok(new[] { Bridge() }));
        app.MapGet("/networks/{id}", (string id) =>
            id is "bridge" or BridgeId ? DockerJson.Ok(Bridge()) : throw DockerApiException.NotFound($"network {id} not found"));
        app.MapPost("/networks/create", () => Refused());
        app.MapPost("/networks/{id}/connect", (string id) => Refused());
        app.MapPost("/networks/{id}/disconnect", (string id) => Refused());
        app.MapDelete("/networks/{id}", IResult (string id) => throw (id is "bridge" or BridgeId
            ? DockerApiException.Conflict("bridge is a pre-defined network and cannot be removed")
            : DockerApiException.NotFound($"network {id} not found")));
    }

    private static object Refused() =>
        throw DockerApiException.NotImplemented("user-defined networks (each container has its own user-mode network; containers cannot share one yet)");

    private static object Bridge() => new
    {
        Name = "bridge",
        Id = BridgeId,
        Created = DockerJson.Time(DateTimeOffset.UnixEpoch),
        Scope = "local",
        Driver = "bridge",
        EnableIPv6 = false,
        IPAM = new { Driver = "default", Options = (object?)null, Config = new[] { new { Subnet = "10.0.2.0/24", Gateway = "10.0.2.2" } } },
        Internal = false,
        Attachable = false,
        Ingress = false,
        ConfigOnly = false,
        Containers = new Dictionary<string, object>(),
        Options = new Dictionary<string, string>(),
        Labels = new Dictionary<string, string>(),
    };
}
