using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Microsandbox.DockerApi.Http;

/// <summary>
/// A hijacked connection for exec and attach: with <c>Upgrade: tcp</c> the answer is <c>101 UPGRADED</c> and the
/// connection becomes a raw duplex stream (the request's JSON body arrives first on it, see
/// <see cref="HijackRequestRewriter"/>); without, the stream is the response body and there is no stdin.
/// </summary>
internal sealed class Hijack : IAsyncDisposable
{
    private Hijack(Stream output, Stream? input, JsonElement body)
    {
        Output = output;
        Input = input;
        Body = body;
    }

    /// <summary>Where the multiplexed (or raw) stream goes.</summary>
    public Stream Output { get; }

    /// <summary>The client's stdin bytes when the connection was upgraded; null otherwise.</summary>
    public Stream? Input { get; }

    /// <summary>The request's JSON body (<c>{"Detach":false,"Tty":false}</c> for exec start).</summary>
    public JsonElement Body { get; }

    public static async Task<Hijack> AcceptAsync(HttpContext context, string mediaType, CancellationToken cancellationToken)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        if (upgrade is { IsUpgradableRequest: true })
        {
            context.Response.Headers.Connection = "Upgrade";
            context.Response.Headers.Upgrade = "tcp";
            context.Response.ContentType = mediaType;
            var stream = await upgrade.UpgradeAsync().ConfigureAwait(false);
            var body = await ReadRenamedBodyAsync(context.Request, stream, cancellationToken).ConfigureAwait(false);
            return new Hijack(stream, stream, body);
        }
        // A connection that already served requests (a pooled client) is not rewritten, so it cannot upgrade: the
        // stream goes out as an unframed body after 200 with Upgrade: tcp, and the connection closes after it, as
        // Docker.DotNet's hijack expects.
        var plainBody = await DockerJson.ReadBodyAsync(context.Request, cancellationToken).ConfigureAwait(false);
        context.Response.StatusCode = 200;
        context.Response.ContentType = mediaType;
        context.Response.Headers.Upgrade = "tcp";
        context.Response.Headers.TransferEncoding = "identity";
        await context.Response.StartAsync(cancellationToken).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new Hijack(context.Response.Body, null, plainBody);
    }

    /// <summary>The JSON body of an upgraded request: the first bytes of the upgraded stream, as many as its renamed length.</summary>
    private static async Task<JsonElement> ReadRenamedBodyAsync(HttpRequest request, Stream stream, CancellationToken cancellationToken)
    {
        var header = request.Headers[HijackRequestRewriter.BodyLengthHeader].ToString();
        if (header.Length == 0 || !int.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length == 0)
            return JsonDocument.Parse("{}").RootElement.Clone();
        if (length > 64 * 1024) throw DockerApiException.BadRequest("a hijack request's body is larger than 64 KiB");
        var bytes = new byte[length];
        await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw DockerApiException.BadRequest($"the request body is not valid JSON: {ex.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Output.FlushAsync().ConfigureAwait(false);
        if (Input is not null) await Output.DisposeAsync().ConfigureAwait(false);
    }
}
