using Microsandbox.Agent;

namespace Microsandbox;

/// <summary>Copies a command's events to two streams as they arrive; the one place that turns events into output.</summary>
internal static class ExecStreams
{
    /// <summary>Writes stdout and stderr events through; returns the exit code. A failed start throws <see cref="ExecFailedException"/>.</summary>
    public static async Task<int> CopyAsync(IAsyncEnumerable<ExecEvent> events, string program, Stream stdout, Stream stderr, CancellationToken cancellationToken)
    {
        int? code = null;
        await foreach (var e in events.ConfigureAwait(false))
        {
            switch (e)
            {
                case ExecEvent.Stdout o:
                    await stdout.WriteAsync(o.Data, cancellationToken).ConfigureAwait(false);
                    await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case ExecEvent.Stderr o:
                    await stderr.WriteAsync(o.Data, cancellationToken).ConfigureAwait(false);
                    await stderr.FlushAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case ExecEvent.Failed failed:
                    throw new ExecFailedException(program, failed.Error);
                case ExecEvent.Exited x:
                    code = x.Code;
                    break;
            }
        }
        return code ?? throw new MicrosandboxException($"exec '{program}': the session ended without an exit code");
    }
}
