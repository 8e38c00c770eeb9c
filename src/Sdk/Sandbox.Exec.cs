using System.Runtime.CompilerServices;
using Microsandbox.Agent;

namespace Microsandbox;

public sealed partial class Sandbox
{
    /// <summary>Runs <paramref name="command"/> and waits for it, buffering its output.</summary>
    /// <exception cref="ExecFailedException">The command could not be started (e.g. it does not exist).</exception>
    public async Task<ExecOutput> ExecAsync(ExecCommand command, CancellationToken cancellationToken = default)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        int code = await ExecStreamingAsync(command, stdout, stderr, cancellationToken).ConfigureAwait(false);
        return new ExecOutput(code, stdout.ToArray(), stderr.ToArray());
    }

    /// <summary>Runs <paramref name="command"/>, copying its output to <paramref name="stdout"/> and <paramref name="stderr"/> as it arrives; returns the exit code.</summary>
    public Task<int> ExecStreamingAsync(ExecCommand command, Stream stdout, Stream stderr, CancellationToken cancellationToken = default) =>
        ExecStreams.CopyAsync(ExecEventsAsync(command, cancellationToken), command.Program, stdout, stderr, cancellationToken);

    /// <summary>
    /// Runs <paramref name="command"/> and yields its events (started, stdout, stderr, exited) as they happen.
    /// A command that cannot start surfaces as <see cref="ExecFailedException"/>.
    /// </summary>
    public async IAsyncEnumerable<ExecEvent> ExecEventsAsync(ExecCommand command, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Buffered and streamed runs are non-interactive: feed what there is, then end of file (with no input, the
        // end of file rides in the same write as the request).
        bool noInput = command.Stdin is not { Length: > 0 };
        var operation = $"exec '{command.Program}'";
        // The guest going away mid-command says why (QEMU killed, kernel panic…), not just "connection closed".
        async Task<T> Explained<T>(Func<Task<T>> step)
        {
            try
            {
                return await step().ConfigureAwait(false);
            }
            catch (AgentConnectionException lost)
            {
                throw await ExplainLostConnectionAsync(lost, operation).ConfigureAwait(false);
            }
        }

        await using var session = await Explained(() => StartAsync(command, closeStdin: noInput, cancellationToken)).ConfigureAwait(false);
        if (!noInput)
        {
            await Explained(async () =>
            {
                await session.WriteStdinAsync(command.Stdin!.Value, cancellationToken).ConfigureAwait(false);
                await session.CloseStdinAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }).ConfigureAwait(false);
        }
        var events = session.ReadEventsAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (events.ConfigureAwait(false))
        {
            while (await Explained(() => events.MoveNextAsync().AsTask()).ConfigureAwait(false))
            {
                if (events.Current is ExecEvent.Failed failed)
                    throw new ExecFailedException(command.Program, failed.Error);
                yield return events.Current;
            }
        }
    }

    /// <summary>Starts <paramref name="command"/> and returns its live session (events, stdin, signals, resize).</summary>
    public Task<ExecSession> StartAsync(ExecCommand command, CancellationToken cancellationToken = default) =>
        StartAsync(command, closeStdin: false, cancellationToken);

    private Task<ExecSession> StartAsync(ExecCommand command, bool closeStdin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        return _agent.ExecAsync(command.ToRequest(), closeStdin, cancellationToken);
    }

    /// <summary>Checks the guest agent answers.</summary>
    public Task PingAsync(CancellationToken cancellationToken = default) => _agent.PingAsync(cancellationToken);
}
