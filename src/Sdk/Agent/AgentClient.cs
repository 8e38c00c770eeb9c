using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsandbox.Agent;

/// <summary>
/// Host side of the agent protocol over the relay socket: performs the relay handshake
/// (<c>[id_start u32 BE][id_end_exclusive u32 BE]</c> then the cached <c>core.ready</c> frame), allocates correlation
/// ids within the assigned range, multiplexes exec and filesystem sessions over one connection, and applies
/// back-pressure with bounded per-session queues.
/// </summary>
public sealed partial class AgentClient : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly FrameReader _input;
    private readonly AgentClientOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Lock _routesLock = new();
    private readonly Dictionary<uint, AgentSession> _routes = [];
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _reader;
    private uint _nextId;
    private Exception? _failure;
    private int _disposed;

    private AgentClient(Stream stream, FrameReader input, AgentClientOptions options, uint idStart, uint idEndExclusive, AgentMessage ready, RawFrame readyFrame)
    {
        _stream = stream;
        _input = input;
        _options = options;
        _logger = options.Logger ?? NullLogger.Instance;
        IdStart = idStart;
        IdEndExclusive = idEndExclusive;
        _nextId = Math.Max(1u, idStart);
        ReadyMessage = ready;
        ReadyFrame = readyFrame;
        Ready = ready.ReadPayload<Ready>();
        NegotiatedVersion = Math.Min(AgentProtocol.Version, ready.Version);
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>First correlation id the relay assigned to this connection.</summary>
    public uint IdStart { get; }

    /// <summary>Exclusive end of the assigned correlation id range.</summary>
    public uint IdEndExclusive { get; }

    /// <summary>The guest's <c>core.ready</c> payload, as cached by the relay.</summary>
    public Ready Ready { get; }

    /// <summary>The <c>core.ready</c> message (its <see cref="AgentMessage.Version"/> is the guest's generation).</summary>
    public AgentMessage ReadyMessage { get; }

    /// <summary>The raw <c>core.ready</c> frame exactly as received.</summary>
    public RawFrame ReadyFrame { get; }

    /// <summary><c>min(our generation, the guest's)</c>: message types introduced later are refused locally.</summary>
    public byte NegotiatedVersion { get; }

    /// <summary>Completes when the connection has closed (relay gone, guest gone, or this client disposed).</summary>
    public Task Completion => _closed.Task;

    /// <summary>
    /// Connects to a relay's unix socket and performs the handshake. Retries while the socket file is missing or
    /// refuses connections, up to <see cref="AgentClientOptions.ConnectTimeout"/>.
    /// </summary>
    /// <exception cref="AgentConnectionException">No connection within the timeout.</exception>
    /// <exception cref="AgentProtocolException">The handshake was malformed or timed out.</exception>
    public static async Task<AgentClient> ConnectAsync(
        string socketPath, AgentClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        options ??= new AgentClientOptions();
        var stream = await UnixSocketConnector.ConnectAsync(socketPath, options.ConnectTimeout, cancellationToken);
        return await ConnectAsync(stream, options, cancellationToken);
    }

    /// <summary>Performs the relay handshake on an already-connected duplex stream, which the client then owns.</summary>
    /// <exception cref="AgentProtocolException">The handshake was malformed or timed out.</exception>
    public static async Task<AgentClient> ConnectAsync(
        Stream stream, AgentClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= new AgentClientOptions();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.HandshakeTimeout);
        try
        {
            var input = new FrameReader(stream);
            var range = await input.ReadBytesAsync(8, timeout.Token);
            if (range.Length < 8)
            {
                throw new AgentProtocolException($"handshake: relay closed after {range.Length} of 8 id-range bytes");
            }

            var (idStart, idEnd) = ParseIdRange(range);
            var frame = await input.ReadAsync(timeout.Token)
                        ?? throw new AgentProtocolException("handshake: relay closed before sending the core.ready frame");
            var ready = AgentMessage.FromRawFrame(frame);
            if (ready.Type != MessageType.Ready)
            {
                throw new AgentProtocolException($"handshake: expected core.ready frame, got {ready.Type}");
            }

            return new AgentClient(stream, input, options, idStart, idEnd, ready, frame);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await stream.DisposeAsync();
            throw new AgentProtocolException(
                $"handshake: relay sent no id range and core.ready within {options.HandshakeTimeout.TotalSeconds:0.#} s");
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>Parses the relay's 8-byte id-range greeting.</summary>
    /// <exception cref="AgentProtocolException">The range is empty or holds no usable non-zero id.</exception>
    public static (uint IdStart, uint IdEndExclusive) ParseIdRange(ReadOnlySpan<byte> greeting)
    {
        if (greeting.Length < 8)
        {
            throw new AgentProtocolException($"handshake: id range needs 8 bytes, got {greeting.Length}");
        }

        var start = BinaryPrimitives.ReadUInt32BigEndian(greeting);
        var end = BinaryPrimitives.ReadUInt32BigEndian(greeting[4..]);
        if (start >= end)
        {
            throw new AgentProtocolException($"handshake: invalid relay id range: start={start}, end={end}");
        }

        if (end <= Math.Max(1u, start))
        {
            throw new AgentProtocolException($"handshake: relay id range contains no usable nonzero ids: start={start}, end={end}");
        }

        return (start, end);
    }

    /// <summary>Whether the connected guest is new enough for <paramref name="messageType"/>.</summary>
    public bool Supports(string messageType) =>
        MessageType.IntroducedIn(messageType) is { } needs && needs <= NegotiatedVersion;

    /// <summary>Checks the guest answers: sends <c>core.ping</c> and waits for <c>core.pong</c>.</summary>
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(new Ping(), cancellationToken);
        ExpectType(reply, MessageType.Pong);
    }

    /// <summary>Refreshes the sandbox idle timer explicitly; returns the guest's activity sequence.</summary>
    public async Task<ulong> TouchAsync(CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(new Touch(), cancellationToken);
        ExpectType(reply, MessageType.Touched);
        return reply.ReadPayload<Touched>().ActivitySeq;
    }

    /// <summary>
    /// Asks the guest to shut down (<c>core.shutdown</c>, id 0, as upstream's SDK sends it). The guest signals its
    /// commands, syncs and powers off; no reply comes back.
    /// </summary>
    public Task ShutdownAsync(CancellationToken cancellationToken = default) =>
        SendAsync(0, new Shutdown(), cancellationToken);

    /// <summary>
    /// Starts a command. Read its events from <see cref="ExecSession.Events"/>; its stdin stays open until
    /// <see cref="ExecSession.CloseStdinAsync"/>. Dispose the session when done with it.
    /// </summary>
    public Task<ExecSession> ExecAsync(ExecRequest request, CancellationToken cancellationToken = default) =>
        ExecAsync(request, closeStdin: false, cancellationToken);

    /// <summary>
    /// Starts a command; with <paramref name="closeStdin"/> its stdin is at end of input from the start (the request
    /// and the empty <c>core.exec.stdin</c> travel in one write, one trip through relay and guest instead of two).
    /// </summary>
    public async Task<ExecSession> ExecAsync(ExecRequest request, bool closeStdin, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var session = await OpenSessionAsync(request, _options.ExecBufferFrames, cancellationToken, closeStdin ? new ExecStdin(ReadOnlyMemory<byte>.Empty) : null);
        return new ExecSession(this, session, request.Cmd, stdinClosed: closeStdin);
    }

    /// <summary>
    /// Runs a command to completion, feeding it <paramref name="stdin"/> (then end of input) and collecting its output.
    /// A non-zero exit code is a result, not an error.
    /// </summary>
    /// <exception cref="ExecFailedException">The command could not be started (e.g. it does not exist).</exception>
    public async Task<ExecResult> ExecBufferedAsync(
        ExecRequest request, ReadOnlyMemory<byte> stdin = default, CancellationToken cancellationToken = default)
    {
        await using var session = await ExecAsync(request, closeStdin: stdin.IsEmpty, cancellationToken);
        var feeding = stdin.IsEmpty ? Task.CompletedTask : FeedStdinAsync(session, stdin, cancellationToken);
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        int? code = null;
        await foreach (var e in session.ReadEventsAsync(cancellationToken))
        {
            switch (e)
            {
                case ExecEvent.Stdout o: stdout.Write(o.Data.Span); break;
                case ExecEvent.Stderr r: stderr.Write(r.Data.Span); break;
                case ExecEvent.Exited x: code = x.Code; break;
                case ExecEvent.Failed f: throw new ExecFailedException(request.Cmd, f.Error);
            }
        }

        try
        {
            await feeding;
        }
        catch (Exception e) when (e is AgentConnectionException or IOException)
        {
            // The command finished without reading all of its input; its exit status is what matters.
            _logger.LogDebug(e, "stdin of '{Command}' not fully delivered", request.Cmd);
        }

        return new ExecResult(stdout.ToArray(), stderr.ToArray(),
            code ?? throw new AgentProtocolException($"exec session {session.Id} ended without core.exec.exited"));
    }

    private static async Task FeedStdinAsync(ExecSession session, ReadOnlyMemory<byte> stdin, CancellationToken cancellationToken)
    {
        await Task.Yield();
        await session.WriteStdinAsync(stdin, cancellationToken);
        await session.CloseStdinAsync(cancellationToken);
    }

    /// <summary>Sends one session-opening request and returns the first (normally terminal) reply.</summary>
    internal async Task<AgentMessage> RequestAsync<T>(T payload, CancellationToken cancellationToken)
        where T : IAgentPayload<T>
    {
        var session = await OpenSessionAsync(payload, 1, cancellationToken);
        try
        {
            var reply = await session.NextAsync(cancellationToken)
                        ?? throw new AgentConnectionException($"agent connection closed before the reply to {T.WireType}");
            if (reply.Type == MessageType.CoreError)
            {
                throw CoreErrorException(reply);
            }

            return reply;
        }
        finally
        {
            CloseSession(session);
        }
    }

    /// <summary>Reserves an id, routes its frames to a bounded queue, and sends the opening message.</summary>
    internal async Task<AgentSession> OpenSessionAsync<T>(T payload, int capacity, CancellationToken cancellationToken, ExecStdin? stdinFrame = null)
        where T : IAgentPayload<T>
    {
        EnsureSupported(T.WireType);
        var session = ReserveSession(capacity);
        try
        {
            var wire = AgentMessage.Create(session.Id, payload).ToWireBytes();
            if (stdinFrame is not null)
                wire = [.. wire, .. AgentMessage.Create(session.Id, stdinFrame).ToWireBytes()];
            await WriteWireAsync(wire, T.WireType, cancellationToken);
            return session;
        }
        catch
        {
            CloseSession(session);
            throw;
        }
    }

    /// <summary>Sends one message on a correlation id.</summary>
    internal async Task SendAsync<T>(uint id, T payload, CancellationToken cancellationToken) where T : IAgentPayload<T>
    {
        EnsureSupported(T.WireType);
        await WriteWireAsync(AgentMessage.Create(id, payload).ToWireBytes(), T.WireType, cancellationToken);
    }

    // One or more whole frames in a single write: the relay and the guest see them together.
    private async Task WriteWireAsync(byte[] wire, string firstType, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            ThrowIfClosed();
            await _stream.WriteAsync(wire, cancellationToken);
            await _stream.FlushAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            throw new AgentConnectionException($"agent connection closed while sending {firstType}: {e.Message}", e);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Routes the frames of an exec session this connection did not start (one already running in a guest resumed
    /// from a ready-state template) to a new handle; its stdin is treated as closed.
    /// </summary>
    internal ExecSession AdoptExecSession(uint id, string command)
    {
        if (id < IdStart || id >= IdEndExclusive)
            throw new ArgumentOutOfRangeException(nameof(id), $"session {id} is outside this connection's id range [{IdStart}, {IdEndExclusive})");
        AgentSession session;
        lock (_routesLock)
        {
            ThrowIfClosed();
            if (_routes.ContainsKey(id)) throw new InvalidOperationException($"session {id} is already routed");
            session = new AgentSession(id, _options.ExecBufferFrames);
            _routes[id] = session;
            if (_nextId == id) _nextId = id + 1 >= IdEndExclusive ? Math.Max(1u, IdStart) : id + 1;
        }
        return new ExecSession(this, session, command, stdinClosed: true);
    }

    /// <summary>Stops routing frames for a session and frees its id.</summary>
    internal void CloseSession(AgentSession session)
    {
        lock (_routesLock)
        {
            if (_routes.TryGetValue(session.Id, out var current) && ReferenceEquals(current, session))
            {
                _routes.Remove(session.Id);
            }
        }

        // Completing the queue also releases a reader blocked on a full queue for this session.
        session.Inbox.Writer.TryComplete();
    }

    internal static AgentProtocolException CoreErrorException(AgentMessage message)
    {
        var error = message.ReadPayload<CoreError>();
        var about = error.OffendingType is null ? "" : $" ({error.OffendingType})";
        return new AgentProtocolException($"guest agent rejected request {message.Id}{about}: {error.Kind}: {error.Message}");
    }

    private static void ExpectType(AgentMessage reply, string type)
    {
        if (reply.Type != type)
        {
            throw new AgentProtocolException($"expected {type} on id {reply.Id}, got {reply.Type}");
        }
    }

    private void EnsureSupported(string type)
    {
        var needs = MessageType.IntroducedIn(type) ?? AgentProtocol.Version;
        if (needs > NegotiatedVersion)
        {
            throw new AgentProtocolException(
                $"the sandbox runtime is too old for '{type}' (needs protocol generation {needs}, the sandbox speaks {NegotiatedVersion}); restart the sandbox to update its runtime");
        }
    }

    private AgentSession ReserveSession(int capacity)
    {
        lock (_routesLock)
        {
            ThrowIfClosed();
            var first = Math.Max(1u, IdStart);
            var count = (ulong)IdEndExclusive - first;
            for (ulong i = 0; i < count; i++)
            {
                var id = _nextId;
                _nextId = id + 1 >= IdEndExclusive ? first : id + 1;
                if (!_routes.ContainsKey(id))
                {
                    var session = new AgentSession(id, capacity);
                    _routes[id] = session;
                    return session;
                }
            }
        }

        throw new AgentProtocolException("agent correlation id range exhausted");
    }

    private void ThrowIfClosed()
    {
        if (_failure is not null)
        {
            throw new AgentConnectionException($"agent connection is closed: {_failure.Message}", _failure);
        }
    }

    private async Task ReadLoopAsync()
    {
        Exception reason;
        try
        {
            while (true)
            {
                var frame = await _input.ReadAsync(_shutdown.Token);
                if (frame is null)
                {
                    reason = new AgentConnectionException("agent relay closed the connection");
                    break;
                }

                await RouteAsync(AgentMessage.FromRawFrame(frame.Value));
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            reason = new AgentConnectionException("agent client closed");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            reason = new AgentConnectionException($"agent connection failed: {e.Message}", e);
        }
        catch (AgentProtocolException e)
        {
            LogProtocolError(_logger, e.Message);
            reason = e;
        }

        FailAll(reason);
    }

    private async ValueTask RouteAsync(AgentMessage message)
    {
        AgentSession? session;
        lock (_routesLock)
        {
            _routes.TryGetValue(message.Id, out session);
            if (session is not null && message.IsTerminal)
            {
                _routes.Remove(message.Id);
                session.Finished = true;
            }
        }

        if (session is null)
        {
            LogUnrouted(_logger, message.Type, message.Id);
            return;
        }

        try
        {
            // Waits while the session's queue is full: the socket stops being read and the relay and guest slow down.
            await session.Inbox.Writer.WriteAsync(message, _shutdown.Token);
        }
        catch (ChannelClosedException)
        {
            // The session was closed locally; its remaining frames are dropped.
        }

        if (message.IsTerminal)
        {
            session.Inbox.Writer.TryComplete();
        }
    }

    private void FailAll(Exception reason)
    {
        List<AgentSession> sessions;
        lock (_routesLock)
        {
            _failure ??= reason;
            sessions = [.. _routes.Values];
            _routes.Clear();
        }

        foreach (var session in sessions)
        {
            session.Inbox.Writer.TryComplete(new AgentConnectionException(
                $"agent connection closed before session {session.Id} finished: {reason.Message}", reason));
        }

        _closed.TrySetResult();
    }

    /// <summary>Closes the connection; pending sessions fail with <see cref="AgentConnectionException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _shutdown.CancelAsync();
        await _stream.DisposeAsync();
        try
        {
            await _reader;
        }
        catch (Exception e)
        {
            LogProtocolError(_logger, e.Message);
        }

        FailAll(new AgentConnectionException("agent client closed"));
        _shutdown.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "agent client: protocol error: {Error}")]
    private static partial void LogProtocolError(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "agent client: dropping {Type} for unknown id {Id}")]
    private static partial void LogUnrouted(ILogger logger, string type, uint id);
}
