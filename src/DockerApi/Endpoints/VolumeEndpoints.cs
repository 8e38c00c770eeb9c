using System.Text.Json;
using Microsandbox.DockerApi.Containers;
using Microsandbox.DockerApi.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsandbox.DockerApi.Endpoints;

/// <summary>Volumes: the SDK's named volumes (directories in the state directory), Docker's <c>local</c> driver.</summary>
internal static class VolumeEndpoints
{
    public static void Map(IEndpointRouteBuilder app, ContainerStore containers, SandboxOptions options)
    {
        app.MapPost("/volumes/create", async (HttpContext context) =>
        {
            var body = await DockerJson.ReadBodyAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            var driver = ContainerCreateRequest.String(body, "Driver") ?? "";
            if (driver is not ("" or "local")) throw DockerApiException.NotImplemented($"volume driver '{driver}' (only 'local')");
            if (ContainerCreateRequest.StringMap(body, "DriverOpts").Count > 0) throw DockerApiException.NotImplemented("volume DriverOpts");
            var name = ContainerCreateRequest.String(body, "Name") is { Length: > 0 } n ? n : Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            var labels = ContainerCreateRequest.StringMap(body, "Labels");
            var volume = await Volumes.CreateAsync(name, labels, options, context.RequestAborted).ConfigureAwait(false);
            return DockerJson.Ok(View(volume), 201);
        });
        app.MapGet("/volumes", async (HttpContext context) =>
        {
            if (context.Request.Query["filters"].ToString() is { Length: > 2 } filters && filters != "{}")
                throw DockerApiException.NotImplemented("volume list filters");
            var volumes = await Volumes.ListAsync(options, context.RequestAborted).ConfigureAwait(false);
            return DockerJson.Ok(new { Volumes = volumes.Select(View).ToList(), Warnings = Array.Empty<string>() });
        });
        app.MapGet("/volumes/{name}", async (string name, HttpContext context) =>
        {
            var volume = await Volumes.InspectAsync(name, options, context.RequestAborted).ConfigureAwait(false)
                ?? throw DockerApiException.NotFound($"get {name}: no such volume");
            return DockerJson.Ok(View(volume));
        });
        app.MapDelete("/volumes/{name}", async (string name, HttpContext context) =>
        {
            var user = containers.All.FirstOrDefault(c => c.Request.Mounts.Any(m => m.Type == "volume" && m.Source == name));
            if (user is not null)
                throw DockerApiException.Conflict($"remove {name}: volume is in use - [{user.Id}]");
            if (!await Volumes.RemoveAsync(name, options, context.RequestAborted).ConfigureAwait(false))
                throw DockerApiException.NotFound($"get {name}: no such volume");
            return Results.NoContent();
        });
    }

    private static object View(VolumeInfo volume) => new
    {
        Name = volume.Name,
        Driver = "local",
        Mountpoint = volume.Path,
        CreatedAt = DockerJson.Time(volume.CreatedAt is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null),
        Labels = volume.Labels,
        Scope = "local",
        Options = new Dictionary<string, string>(),
    };
}
