using System.Runtime.CompilerServices;

namespace Microsandbox.Agent;

/// <summary>
/// A running command: its events, its stdin, signals and terminal resizes. Disposing a session whose command is
/// still running sends it SIGKILL (as the relay does for a client that disconnects).
/// </summary>
public sealed class ExecSession : IAsyncDisposable
{
    private const int SigKill = 9;
    private readonly AgentClient _client;
    private readonly AgentSession _session;
    private readonly string _command;
    private int _stdinClosed;
    private int _reading;
    private int _disposed;

    internal ExecSession(AgentClient client, AgentSession session, string command, bool stdinClosed = false)
    {
        _client = client;
        _session = session;
        _command = command;
        _stdinClosed = stdinClosed ? 1 : 0;
    }

    /// <summary>The correlation id of this session.</summary>
    public uint Id => _session.Id;

    /// <summary>Whether the command has reported its end (exited or failed).</summary>
    public bool IsFinished => _session.Finished;

    /// <summary>The command's events, ending with <see cref="ExecEvent.Exited"/> or <see cref="ExecEvent.Failed"/>. Read once.</summary>
    public IAsyncEnumerable<ExecEvent> Events => ReadEventsAsync();

    /// <summary>Reads the command's events until it ends. Only one reader may enumerate a session.</summary>
    /// <exception cref="AgentProtocolException">The guest answered with <c>core.error</c> or a malformed payload.</exception>
    /// <exception cref="AgentConnectionException">The connection closed before the command ended.</exception>
    public async IAsyncEnumerable<ExecEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _reading, 1) != 0)
        {
            throw new InvalidOperationException($"exec session {Id} events are already being read");
        }

        while (await _session.NextAsync(cancellationToken) is { } message)
        {
            ExecEvent? e = message.Type switch
            {
                MessageType.ExecStarted => new ExecEvent.Started(message.ReadPayload<ExecStarted>().Pid),
                MessageType.ExecStdout => new ExecEvent.Stdout(message.ReadPayload<ExecStdout>().Data),
                MessageType.ExecStderr => new ExecEvent.Stderr(message.ReadPayload<ExecStderr>().Data),
                MessageType.ExecStdinError => new ExecEvent.StdinError(message.ReadPayload<ExecStdinError>()),
                MessageType.ExecExited => new ExecEvent.Exited(message.ReadPayload<ExecExited>().Code),
                MessageType.ExecFailed => new ExecEvent.Failed(message.ReadPayload<ExecFailed>()),
                MessageType.CoreError => throw AgentClient.CoreErrorException(message),
                _ => null,
            };
            if (e is not null)
            {
                yield return e;
            }

            if (message.IsTerminal)
            {
                yield break;
            }
        }
    }

    /// <summary>Sends bytes to the command's stdin, in chunks that fit a frame. Empty input sends nothing.</summary>
    public async Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _stdinClosed) != 0)
        {
            throw new InvalidOperationException($"stdin of '{_command}' (session {Id}) is already closed");
        }

        for (var offset = 0; offset < data.Length; offset += AgentProtocol.FsChunkSize)
        {
            var chunk = data.Slice(offset, Math.Min(AgentProtocol.FsChunkSize, data.Length - offset));
            await _client.SendAsync(Id, new ExecStdin(chunk), cancellationToken);
        }
    }

    /// <summary>
    /// A write-only stream onto the command's stdin, for <see cref="Stream.CopyToAsync(Stream)"/> and friends;
    /// disposing it closes stdin.
    /// </summary>
    public Stream OpenStdin() => new ExecStdinStream(this);

    /// <summary>Closes the command's stdin (an empty <c>core.exec.stdin</c>). Idempotent.</summary>
    public async Task CloseStdinAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stdinClosed, 1) == 0)
        {
            await _client.SendAsync(Id, new ExecStdin(ReadOnlyMemory<byte>.Empty), cancellationToken);
        }
    }

    /// <summary>Sends a signal (e.g. 15 for SIGTERM) to the command.</summary>
    public Task SignalAsync(int signal, CancellationToken cancellationToken = default) =>
        _client.SendAsync(Id, new ExecSignal(signal), cancellationToken);

    /// <summary>Resizes the command's terminal (tty mode).</summary>
    public Task ResizeAsync(ushort rows, ushort cols, CancellationToken cancellationToken = default) =>
        _client.SendAsync(Id, new ExecResize(rows, cols), cancellationToken);

    /// <summary>Stops routing this session; kills the command first if it has not ended.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (!_session.Finished)
        {
            try
            {
                await _client.SendAsync(Id, new ExecSignal(SigKill), CancellationToken.None);
            }
            catch (MicrosandboxException)
            {
                // The connection is already gone; the relay kills the command for us.
            }
        }

        _client.CloseSession(_session);
    }
}
