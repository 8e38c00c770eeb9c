using System.Text.Json;
using System.Text.Json.Nodes;
using Microsandbox.DockerApi.Containers;
using Microsandbox.DockerApi.Http;
using Microsandbox.DockerApi.Images;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsandbox.DockerApi.Endpoints;

/// <summary>Inspect, pull, list and remove images (names may hold slashes, so the routes take the rest of the path).</summary>
internal static class ImageEndpoints
{
    public static void Map(IEndpointRouteBuilder app, ImageStore images, ContainerStore containers)
    {
        app.MapGet("/images/json", () => DockerJson.Ok(images.List().Select(Summary).ToList()));
        app.MapGet("/images/{**path}", (string path) =>
        {
            if (!path.EndsWith("/json", StringComparison.Ordinal)) throw DockerApiException.NotImplemented($"GET /images/{path}");
            var name = path[..^5];
            var image = images.Find(name) ?? throw DockerApiException.NotFound($"No such image: {name}");
            return DockerJson.Ok(Inspect(image));
        });
        app.MapDelete("/images/{**name}", (string name, HttpRequest request) =>
        {
            var image = images.Find(name) ?? throw DockerApiException.NotFound($"No such image: {name}");
            var user = containers.All.FirstOrDefault(c => c.Image.Id == image.Id);
            if (user is not null && !DockerJson.Flag(request, "force"))
                throw DockerApiException.Conflict($"conflict: unable to remove repository reference \"{name}\" (must force) - container {user.Id[..12]} is using its referenced image {ImageStore.ShortId(image.Id)}");
            images.Remove(image);
            return DockerJson.Ok(image.RepoTags.Select(t => new { Untagged = t }).Append(new { Untagged = image.Image.ManifestDigest }).ToList());
        });
        app.MapPost("/images/create", async (HttpContext context) =>
        {
            var request = context.Request;
            var from = request.Query["fromImage"].ToString();
            if (from.Length == 0) throw DockerApiException.NotImplemented("image import (fromSrc); pull with fromImage");
            var tag = request.Query["tag"].ToString();
            var reference = tag.Length == 0 ? from : tag.StartsWith("sha256:", StringComparison.Ordinal) ? $"{from}@{tag}" : $"{from}:{tag}";
            var auth = ImageStore.DecodeAuth(request.Headers["X-Registry-Auth"].ToString());
            var response = context.Response;
            async Task Progress(JsonObject message)
            {
                if (!response.HasStarted)
                {
                    response.StatusCode = 200;
                    response.ContentType = "application/json";
                }
                await response.WriteAsync(message.ToJsonString() + "\r\n", context.RequestAborted).ConfigureAwait(false);
                await response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            }
            try
            {
                await images.PullAsync(reference, auth, Progress, context.RequestAborted).ConfigureAwait(false);
            }
            catch (MicrosandboxException ex) when (response.HasStarted)
            {
                // Docker reports a pull that fails after its progress began inside the stream.
                await Progress(new JsonObject { ["errorDetail"] = new JsonObject { ["message"] = ex.Message }, ["error"] = ex.Message }).ConfigureAwait(false);
            }
        });
    }

    private static object Summary(LocalImage image) => new
    {
        Id = image.Id,
        ParentId = "",
        RepoTags = image.RepoTags,
        RepoDigests = RepoDigests(image),
        Created = image.Image.PulledAt.ToUnixTimeSeconds(),
        Size = image.Image.Size,
        SharedSize = -1,
        VirtualSize = image.Image.Size,
        Labels = image.Config.Labels,
        Containers = -1,
    };

    private static object Inspect(LocalImage image)
    {
        var doc = image.ConfigDocument;
        return new
        {
            Id = image.Id,
            RepoTags = image.RepoTags,
            RepoDigests = RepoDigests(image),
            Parent = "",
            Comment = "",
            Created = doc["created"]?.GetValue<string>() ?? DockerJson.Time(image.Image.PulledAt),
            DockerVersion = "",
            Author = doc["author"]?.GetValue<string>() ?? "",
            Config = ConfigOf(doc),
            Architecture = doc["architecture"]?.GetValue<string>() ?? "amd64",
            Os = doc["os"]?.GetValue<string>() ?? "linux",
            Size = image.Image.Size,
            VirtualSize = image.Image.Size,
            GraphDriver = new { Name = "microsandbox", Data = new Dictionary<string, string>() },
            RootFS = new { Type = "layers", Layers = image.Image.Layers.Select(l => l.Digest).ToList() },
            Metadata = new { LastTagTime = DockerJson.Time(image.Image.PulledAt) },
        };
    }

    /// <summary>The image's <c>config</c> object as stored (Docker's inspect shows the same fields).</summary>
    internal static JsonNode ConfigOf(JsonObject document) =>
        document["config"]?.DeepClone() ?? new JsonObject();

    private static List<string> RepoDigests(LocalImage image) =>
        [.. image.RepoTags.Select(t => StripTag(t) + "@" + image.Image.ManifestDigest).Distinct()];

    private static string StripTag(string reference)
    {
        var slash = reference.LastIndexOf('/');
        var colon = reference.LastIndexOf(':');
        return colon > slash ? reference[..colon] : reference;
    }
}
