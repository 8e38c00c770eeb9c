using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace Microsandbox.DockerApi.Http;

/// <summary>
/// Lets Kestrel upgrade Docker's hijack requests. <c>POST /exec/{id}/start</c> and <c>/containers/{id}/attach</c>
/// arrive with <c>Connection: Upgrade</c>, <c>Upgrade: tcp</c> <i>and</i> a JSON body; Kestrel only upgrades a request
/// without a body and serves this one as an ordinary request, whose connection cannot then carry a raw stream.
/// Clients open a fresh connection for each hijack (the Go client and Docker.DotNet both do), so only the first
/// request head of a connection is looked at: when it is such a request, its <c>Content-Length</c> header is renamed
/// to <see cref="BodyLengthHeader"/>, Kestrel upgrades it, and the handler reads the body as the first bytes of the
/// upgraded stream. Every other byte passes through unchanged.
/// </summary>
internal static class HijackRequestRewriter
{
    /// <summary>Carries the renamed <c>Content-Length</c> of a hijack request.</summary>
    public const string BodyLengthHeader = "X-Microsandbox-Hijack-Body-Length";

    // A request head larger than this is not a hijack request we rewrite: it passes through for Kestrel to judge.
    private const int MaxHeadBytes = 64 * 1024;

    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>The connection middleware (<c>ListenOptions.Use</c>).</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => async connection =>
    {
        var original = connection.Transport;
        var rewritten = new Pipe();
        var pump = PumpAsync(original.Input, rewritten.Writer, connection.ConnectionClosed);
        connection.Transport = new DuplexPipe(rewritten.Reader, original.Output);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            // The pump may sit in a read of the client's side; it must end before the connection can close, or a
            // client waiting for the end of a hijacked stream would wait forever.
            connection.Transport = original;
            original.Input.CancelPendingRead();
            await pump.ConfigureAwait(false);
        }
    };

    private static async Task PumpAsync(PipeReader input, PipeWriter output, CancellationToken closed)
    {
        Exception? error = null;
        try
        {
            // Until the first head is complete (or too large to be one of ours), collect it.
            while (true)
            {
                var result = await input.ReadAsync(closed).ConfigureAwait(false);
                if (result.IsCanceled) return;
                var buffer = result.Buffer;
                var end = IndexOf(buffer, HeadEnd);
                if (end >= 0 || buffer.Length > MaxHeadBytes || result.IsCompleted)
                {
                    if (end >= 0)
                    {
                        var head = buffer.Slice(0, end + HeadEnd.Length).ToArray();
                        await output.WriteAsync(Rewrite(head), closed).ConfigureAwait(false);
                        buffer = buffer.Slice(end + HeadEnd.Length);
                    }
                    foreach (var segment in buffer) await output.WriteAsync(segment, closed).ConfigureAwait(false);
                    input.AdvanceTo(buffer.End);
                    if (result.IsCompleted) return;
                    break;
                }
                input.AdvanceTo(buffer.Start, buffer.End);
            }
            await input.CopyToAsync(output, closed).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (InvalidOperationException)
        {
            // The connection ended and its input was completed under us.
        }
#pragma warning disable CA1031 // Whatever broke the transport ends this connection's input, nothing else.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = ex;
        }
        finally
        {
            await output.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    /// <summary>The head with <c>Content-Length</c> renamed when it is an upgrade request with a body; else unchanged.</summary>
    internal static byte[] Rewrite(byte[] head)
    {
        var text = Encoding.Latin1.GetString(head);
        var lines = text.Split("\r\n");
        bool upgrade = false, connectionUpgrade = false;
        int lengthLine = -1;
        for (int i = 1; i < lines.Length; i++)
        {
            var colon = lines[i].IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) continue;
            var name = lines[i][..colon].Trim();
            var value = lines[i][(colon + 1)..].Trim();
            if (name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)) upgrade = value.Length > 0;
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
                connectionUpgrade = value.Split(',').Any(t => t.Trim().Equals("upgrade", StringComparison.OrdinalIgnoreCase));
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var length) && length > 0)
                lengthLine = i;
        }
        if (!upgrade || !connectionUpgrade || lengthLine < 0) return head;
        var colonAt = lines[lengthLine].IndexOf(':', StringComparison.Ordinal);
        lines[lengthLine] = BodyLengthHeader + lines[lengthLine][colonAt..];
        return Encoding.Latin1.GetBytes(string.Join("\r\n", lines));
    }

    private static long IndexOf(ReadOnlySequence<byte> buffer, byte[] value)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> before, value, advancePastDelimiter: false) ? before.Length : -1;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
