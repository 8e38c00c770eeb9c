using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsandbox.DockerApi.Containers;
using Microsandbox.DockerApi.Http;
using Microsandbox.DockerApi.Images;
using Microsandbox.Spec;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsandbox.DockerApi.Endpoints;

/// <summary>Containers: create, inspect, list, start, stop, kill, restart, wait, remove, logs and attach.</summary>
internal static class ContainerEndpoints
{
    public static void Map(IEndpointRouteBuilder app, ContainerStore store, ContainerLifecycle lifecycle, ImageStore images)
    {
        app.MapPost("/containers/create", async (HttpContext context) =>
        {
            var body = await DockerJson.ReadBodyAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            var request = ContainerCreateRequest.Parse(body);
            var image = images.Find(request.Image) ?? throw DockerApiException.NotFound($"No such image: {request.Image}");
            var container = store.Add(context.Request.Query["name"].ToString(), request, image);
            try
            {
                // Every check a start would make that does not need a VM runs now, so a bad request fails at create.
                SandboxTranslation.Build(container).Build();
            }
            catch (Exception ex) when (ex is DockerApiException or MicrosandboxException)
            {
                store.Remove(container);
                if (ex is DockerApiException) throw;
                throw DockerApiException.BadRequest(ex.Message);
            }
            return DockerJson.Ok(new { Id = container.Id, Warnings = Array.Empty<string>() }, 201);
        });
        app.MapGet("/containers/json", (HttpRequest request) =>
        {
            var filters = ContainerFilters.Parse(request.Query["filters"].ToString());
            bool all = DockerJson.Flag(request, "all");
            var list = store.All.Where(c => (all || c.Status == ContainerStatus.Running) && filters.Matches(c));
            if (int.TryParse(request.Query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit > 0) list = list.Take(limit);
            return DockerJson.Ok(list.Select(ContainerView.Summary).ToList());
        });
        app.MapGet("/containers/{id}/json", (string id) => DockerJson.Ok(ContainerView.Inspect(store.Get(id))));
        app.MapPost("/containers/{id}/start", async (string id, HttpContext context) =>
            await lifecycle.StartAsync(store.Get(id), context.RequestAborted).ConfigureAwait(false) ? Results.NoContent() : Results.StatusCode(304));
        app.MapPost("/containers/{id}/stop", async (string id, HttpContext context) =>
            await lifecycle.StopAsync(store.Get(id), StopTimeout(context.Request), context.RequestAborted).ConfigureAwait(false) ? Results.NoContent() : Results.StatusCode(304));
        app.MapPost("/containers/{id}/restart", async (string id, HttpContext context) =>
        {
            var container = store.Get(id);
            await lifecycle.StopAsync(container, StopTimeout(context.Request), context.RequestAborted).ConfigureAwait(false);
            await lifecycle.StartAsync(container, context.RequestAborted).ConfigureAwait(false);
            return Results.NoContent();
        });
        app.MapPost("/containers/{id}/kill", async (string id, HttpContext context) =>
        {
            var signal = context.Request.Query["signal"].ToString();
            await lifecycle.KillAsync(store.Get(id), signal.Length == 0 ? "SIGKILL" : signal, context.RequestAborted).ConfigureAwait(false);
            return Results.NoContent();
        });
        app.MapPost("/containers/{id}/wait", async (string id, HttpContext context) =>
        {
            var container = store.Get(id);
            var condition = context.Request.Query["condition"].ToString();
            if (condition is not ("" or "not-running" or "next-exit" or "removed"))
                throw DockerApiException.BadRequest($"invalid condition: \"{condition}\" (not-running, next-exit or removed)");
            // The headers go out at once (StartAsync only queues them; the flush sends them), as Docker sends them:
            // the docker CLI waits for them before it starts the container it is waiting on (`docker run`).
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.StartAsync(context.RequestAborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            switch (condition)
            {
                case "" or "not-running":
                    if (container.Status == ContainerStatus.Running) await container.Exited.WaitAsync(context.RequestAborted).ConfigureAwait(false);
                    break;
                case "next-exit":
                    await container.Exited.WaitAsync(context.RequestAborted).ConfigureAwait(false);
                    break;
                case "removed":
                    await container.Removed.WaitAsync(context.RequestAborted).ConfigureAwait(false);
                    break;
            }
            var result = JsonSerializer.SerializeToUtf8Bytes(new { StatusCode = container.ExitCode, Error = (object?)null }, DockerJson.Options);
            await context.Response.Body.WriteAsync(result, context.RequestAborted).ConfigureAwait(false);
        });
        app.MapDelete("/containers/{id}", async (string id, HttpContext context) =>
        {
            await lifecycle.RemoveAsync(store.Get(id), DockerJson.Flag(context.Request, "force"), context.RequestAborted).ConfigureAwait(false);
            return Results.NoContent();
        });
        app.MapGet("/containers/{id}/logs", async (string id, HttpContext context) =>
        {
            var container = store.Get(id);
            var request = context.Request;
            bool stdout = DockerJson.Flag(request, "stdout"), stderr = DockerJson.Flag(request, "stderr");
            if (!stdout && !stderr) throw DockerApiException.BadRequest("Bad parameters: you must choose at least one stream");
            context.Response.ContentType = StreamFrames.MultiplexedMediaType;
            await context.Response.StartAsync(context.RequestAborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            await WriteLogsAsync(container, LogRequest.From(request), context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        });
        app.MapPost("/containers/{id}/attach", async (string id, HttpContext context) =>
        {
            var container = store.Get(id);
            var request = context.Request;
            if (DockerJson.Flag(request, "stdin")) throw DockerApiException.NotImplemented("attaching stdin to a container's main process");
            var logs = LogRequest.From(request) with { Follow = DockerJson.Flag(request, "stream"), All = DockerJson.Flag(request, "logs") };
            Interlocked.Increment(ref container.AttachedStreams);
            try
            {
                await using var hijack = await Hijack.AcceptAsync(context, StreamFrames.MultiplexedMediaType, context.RequestAborted).ConfigureAwait(false);
                await WriteLogsAsync(container, logs, hijack.Output, context.RequestAborted).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref container.AttachedStreams);
            }
        });
    }

    private static TimeSpan? StopTimeout(HttpRequest request) =>
        int.TryParse(request.Query["t"], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var t) && t >= 0 ? TimeSpan.FromSeconds(t) : null;

    /// <summary>Writes the container's main-process output as Docker's multiplexed stream; follows it while it runs.</summary>
    private static async Task WriteLogsAsync(DockerContainer container, LogRequest request, Stream output, CancellationToken cancellationToken)
    {
        // A container that never ran has no logs; one that is starting gets them once it runs, all of them (an
        // attach before start, as `docker run` does, must not miss the first lines).
        bool fromStart = false;
        if (container.Sandbox is not { } sandbox || container.Status != ContainerStatus.Running)
        {
            if (!request.Follow && container.Sandbox is null) return;
            if (request.Follow)
            {
                fromStart = container.Status == ContainerStatus.Created;
                while (container.Status == ContainerStatus.Created) await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
            if (container.Sandbox is null) return;
            sandbox = container.Sandbox;
        }
        var options = new LogOptions { Since = request.Since, Until = request.Until, Tail = request.All || fromStart ? request.Tail : 0, Sources = request.Sources };
        try
        {
            var entries = request.Follow && container.Status == ContainerStatus.Running
                ? sandbox.FollowLogsAsync(options, cancellationToken)
                : (await sandbox.GetLogsAsync(options, cancellationToken).ConfigureAwait(false)).ToAsyncEnumerable();
            await foreach (var entry in entries.ConfigureAwait(false))
            {
                var line = (request.Timestamps ? DockerJson.Time(entry.Timestamp) + " " : "") + entry.Text + "\n";
                var stream = entry.Source == LogSource.Stderr ? StreamFrames.Stderr : StreamFrames.Stdout;
                await StreamFrames.WriteAsync(output, stream, Encoding.UTF8.GetBytes(line), raw: false, cancellationToken).ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client hung up while following: nothing more to send.
        }
    }

    /// <summary>The query of <c>logs</c> and <c>attach</c>.</summary>
    private sealed record LogRequest(bool Follow, bool Timestamps, DateTimeOffset? Since, DateTimeOffset? Until, int? Tail, IReadOnlyList<LogSource> Sources, bool All = true)
    {
        public static LogRequest From(HttpRequest request)
        {
            var sources = new List<LogSource>();
            if (DockerJson.Flag(request, "stdout", fallback: true)) sources.AddRange([LogSource.Stdout, LogSource.Output]);
            if (DockerJson.Flag(request, "stderr", fallback: true)) sources.Add(LogSource.Stderr);
            var tail = request.Query["tail"].ToString();
            return new LogRequest(
                DockerJson.Flag(request, "follow"),
                DockerJson.Flag(request, "timestamps"),
                Time(request.Query["since"].ToString()),
                Time(request.Query["until"].ToString()),
                tail is "" or "all" ? null : int.TryParse(tail, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw DockerApiException.BadRequest($"tail '{tail}': expected a number or 'all'"),
                sources);
        }

        // Unix seconds with an optional fraction; 0 (or nothing) means no bound.
        private static DateTimeOffset? Time(string text)
        {
            if (text.Length == 0 || text == "0") return null;
            if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
                throw DockerApiException.BadRequest($"'{text}': expected a Unix timestamp in seconds");
            return DateTimeOffset.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond));
        }
    }
}
