using System.Buffers.Binary;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsandbox.Agent;

/// <summary>
/// The sandbox-side relay between one guest agent channel and many SDK clients on a unix socket, matching upstream's
/// <c>runtime/lib/relay.rs</c>: each client gets slot <c>k</c> (lowest free of 128) and the id range
/// <c>[k·step+1, k·step+step)</c> with <c>step = u32::MAX / 128</c>, is greeted with
/// <c>[id_start u32 BE][id_end_exclusive u32 BE]</c> plus the cached <c>core.ready</c> frame, and gets back every guest
/// frame whose id falls in its slot (<c>min(id / step, 127)</c>). Frames are forwarded as bytes; only envelopes of
/// session-start frames are peeked, to remember exec sessions that must be killed (SIGKILL) when their client
/// disconnects, after which the guest is told <c>core.relay.client.disconnected</c>.
/// </summary>
public sealed partial class AgentRelay : IAsyncDisposable
{
    private const int SigKill = 9;
    private readonly Stream _guest;
    private readonly FrameReader _guestInput;
    private readonly string _socketPath;
    private readonly AgentRelayOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<byte[]> _toGuest;
    private readonly Lock _clientsLock = new();
    private readonly Dictionary<uint, RelayClient> _clients = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _guestClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _tasks = [];
    private Socket? _listener;
    private byte[]? _readyFrame;
    private long _lastActivityTicks;
    private long _lastClientFrameTicks;
    private long _lastGuestFrameTicks;
    private int _started;
    private int _disposed;
    // Held by the guest writer for each frame, and by a snapshot from its quiesce until the guest's resume.
    private readonly SemaphoreSlim _guestWriteGate = new(1, 1);
    private readonly TaskCompletionSource _firstClient = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _snapshotPrepared;
    private TaskCompletionSource<byte[]>? _snapshotResumed;

    /// <summary>Creates a relay over <paramref name="guest"/> (which it owns and disposes) serving <paramref name="socketPath"/>.</summary>
    public AgentRelay(Stream guest, string socketPath, AgentRelayOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(guest);
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        _guest = guest;
        _guestInput = new FrameReader(guest);
        _socketPath = socketPath;
        _options = options ?? new AgentRelayOptions();
        _logger = _options.Logger ?? NullLogger.Instance;
        // Synchronous continuations: a client's frame is written to the guest on the thread that read it whenever the
        // writer loop is idle, instead of waking another thread for each frame.
        _toGuest = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(_options.GuestQueueFrames)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = true,
        });
        var now = _options.TimeProvider.GetUtcNow().UtcTicks;
        _lastActivityTicks = _lastClientFrameTicks = _lastGuestFrameTicks = now;
    }

    /// <summary>The unix socket clients connect to.</summary>
    public string SocketPath => _socketPath;

    /// <summary>The cached <c>core.ready</c> frame (wire bytes), once <see cref="WaitReadyAsync"/> has returned.</summary>
    public ReadOnlyMemory<byte> ReadyFrame => _readyFrame;

    /// <summary>What the guest reported in <c>core.init.resolved</c>, if it sent one before <c>core.ready</c>.</summary>
    public InitResolved? InitContext { get; private set; }

    /// <summary>
    /// Last meaningful traffic either way, for idle timeouts. Maintenance traffic does not count, as in agentd:
    /// <c>core.ping</c> and <c>core.clock.sync</c> from clients, <c>core.pong</c>, <c>core.touched</c> and <c>core.error</c> from the guest.
    /// </summary>
    public DateTimeOffset LastActivity => new(Interlocked.Read(ref _lastActivityTicks), TimeSpan.Zero);

    /// <summary>When any client last sent a frame.</summary>
    public DateTimeOffset LastClientFrame => new(Interlocked.Read(ref _lastClientFrameTicks), TimeSpan.Zero);

    /// <summary>When the guest last sent a frame.</summary>
    public DateTimeOffset LastGuestFrame => new(Interlocked.Read(ref _lastGuestFrameTicks), TimeSpan.Zero);

    /// <summary>Number of connected clients.</summary>
    public int ClientCount
    {
        get { lock (_clientsLock) return _clients.Count; }
    }

    /// <summary>Exec sessions started through the relay that the guest has not ended yet.</summary>
    public int ActiveExecSessions
    {
        get { lock (_clientsLock) return _clients.Values.Sum(c => c.ActiveExecSessions.Count); }
    }

    /// <summary>Completes when the first client has connected on the socket (in-process clients do not count).</summary>
    internal Task FirstClientConnected => _firstClient.Task;

    /// <summary>Completes when the guest channel has closed (the VM went away or the stream failed).</summary>
    public Task GuestCompletion => _guestClosed.Task;

    /// <summary>Raised once when the guest channel closes.</summary>
    public event EventHandler? GuestClosed;

    /// <summary>Raised when a client forwards <c>core.shutdown</c>; the owner should give the guest a flush window, then stop the VM.</summary>
    public event EventHandler? ShutdownRequested;

    /// <summary>
    /// Boot handshake with the guest: sends <paramref name="bootstrap"/> as the first frame (id 0, flags 0) when given,
    /// answers <c>core.init.resolved</c> with <c>core.init.ack</c>, discards anything else, and caches the
    /// <c>core.ready</c> frame for client greetings.
    /// </summary>
    /// <exception cref="AgentProtocolException">No <c>core.ready</c> within <see cref="AgentRelayOptions.ReadyTimeout"/>, or a malformed frame.</exception>
    /// <exception cref="AgentConnectionException">The guest channel closed first.</exception>
    public Task<Ready> WaitReadyAsync(GuestBootstrap? bootstrap = null, CancellationToken cancellationToken = default) =>
        HandshakeAsync(bootstrap is null ? null : AgentMessage.Create(0, bootstrap).ToWireBytes(), cancellationToken);

    /// <summary>
    /// The handshake of a guest restored from a ready-state template: it waits for <c>msb.snapshot.resume</c> (its new
    /// identity), not for a bootstrap, and answers with <c>core.ready</c>.
    /// </summary>
    internal Task<Ready> WaitResumedAsync(SnapshotResume resume, CancellationToken cancellationToken = default) =>
        HandshakeAsync(AgentMessage.Create(0, resume).ToWireBytes(), cancellationToken);

    private async Task<Ready> HandshakeAsync(byte[]? firstFrame, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(_options.ReadyTimeout);
        try
        {
            if (firstFrame is not null)
            {
                await WriteGuestDirectAsync(firstFrame, timeout.Token);
            }

            while (true)
            {
                var wire = await _guestInput.ReadWireAsync(timeout.Token)
                           ?? throw new AgentConnectionException("the guest agent closed its channel before sending core.ready");
                Touch(ref _lastGuestFrameTicks);
                var message = AgentMessage.FromRawFrame(new RawFrame(
                    BinaryPrimitives.ReadUInt32BigEndian(wire.AsSpan(4)), wire[8], wire.AsMemory(9)));
                switch (message.Type)
                {
                    case MessageType.Ready:
                        _readyFrame = wire;
                        LogReady(_logger);
                        return message.ReadPayload<Ready>();
                    case MessageType.InitResolved:
                        InitContext = message.ReadPayload<InitResolved>();
                        await WriteGuestDirectAsync(AgentMessage.Create(0, new InitAck()).ToWireBytes(), timeout.Token);
                        break;
                    case MessageType.CoreError when message.Id == 0:
                        throw AgentClient.CoreErrorException(message);
                    default:
                        LogDiscardedBeforeReady(_logger, message.Type, message.Id);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !_stop.IsCancellationRequested)
        {
            throw new AgentProtocolException(
                $"timed out waiting for core.ready from the guest agent after {_options.ReadyTimeout.TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            throw new AgentConnectionException($"the guest agent channel failed before core.ready: {e.Message}", e);
        }
    }

    /// <summary>
    /// Binds the unix socket (replacing a stale file, creating its directory) and starts serving clients and routing
    /// frames. Call after <see cref="WaitReadyAsync"/>.
    /// </summary>
    public void Start()
    {
        if (_readyFrame is null)
        {
            throw new InvalidOperationException("AgentRelay.Start needs the guest's core.ready: call WaitReadyAsync first");
        }

        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("AgentRelay.Start was already called");
        }

        if (System.Text.Encoding.UTF8.GetByteCount(_socketPath) > 107)
        {
            throw new InvalidConfigException($"agent socket path '{_socketPath}' is longer than the 107 bytes a unix socket path may have");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_socketPath))!);
        if (File.Exists(_socketPath))
        {
            File.Delete(_socketPath);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(_socketPath));
        listener.Listen((int)AgentProtocol.RelayMaxClients);
        _listener = listener;
        LogListening(_logger, _socketPath);

        _tasks.Add(Task.Run(GuestWriterLoopAsync));
        _tasks.Add(Task.Run(GuestReaderLoopAsync));
        _tasks.Add(Task.Run(AcceptLoopAsync));
        if (_options.ClockSyncInterval is { } interval)
        {
            _tasks.Add(Task.Run(() => ClockSyncLoopAsync(interval)));
        }
    }

    private async Task WriteGuestDirectAsync(byte[] wire, CancellationToken cancellationToken)
    {
        await _guest.WriteAsync(wire, cancellationToken);
        await _guest.FlushAsync(cancellationToken);
    }

    private async Task GuestWriterLoopAsync()
    {
        try
        {
            await foreach (var wire in _toGuest.Reader.ReadAllAsync(_stop.Token))
            {
                await _guestWriteGate.WaitAsync(_stop.Token);
                try
                {
                    await _guest.WriteAsync(wire, _stop.Token);
                    if (!_toGuest.Reader.TryPeek(out _))
                    {
                        await _guest.FlushAsync(_stop.Token);
                    }
                }
                finally
                {
                    _guestWriteGate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
            LogGuestFailed(_logger, "write", e.Message);
            OnGuestClosed();
        }
    }

    private async Task GuestReaderLoopAsync()
    {
        try
        {
            while (await _guestInput.ReadWireAsync(_stop.Token) is { } wire)
            {
                Touch(ref _lastGuestFrameTicks);
                var (id, flags) = FrameCodec.PeekHeader(wire);
                if (AgentMessage.PeekType(wire.AsMemory(9)) is { } type && RefreshesIdleFromGuest(type))
                {
                    Touch(ref _lastActivityTicks);
                }

                if (id == 0 && InterceptSnapshotFrame(wire))
                {
                    continue;
                }

                await RouteToClientAsync(wire, id, flags);
            }

            LogGuestFailed(_logger, "read", "end of stream");
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or AgentProtocolException)
        {
            // A broken length prefix cannot be resynchronised on a byte stream: treat it as the guest going away.
            LogGuestFailed(_logger, "read", e.Message);
        }

        OnGuestClosed();
    }

    // The guest's side of a ready-state snapshot: its prepared answer, then the core.ready (or core.error) its resume gets.
    private bool InterceptSnapshotFrame(byte[] wire)
    {
        var type = AgentMessage.PeekType(wire.AsMemory(9));
        if (type == SnapshotMessageType.Prepared && _snapshotPrepared is { } prepared)
        {
            prepared.TrySetResult();
            return true;
        }
        if (type is MessageType.Ready or MessageType.CoreError && _snapshotResumed is { } resumed)
        {
            resumed.TrySetResult(wire);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Quiesces the guest for a ready-state snapshot: client frames are held back, the guest flushes its output and
    /// answers <c>msb.snapshot.prepared</c>, after which it neither reads nor writes until <see cref="ResumeGuestAsync"/>.
    /// </summary>
    internal async Task QuiesceGuestAsync(Func<SnapshotResume> resumeAfterTimeout, CancellationToken cancellationToken)
    {
        await _guestWriteGate.WaitAsync(cancellationToken);
        var prepareSent = false;
        try
        {
            var prepared = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _snapshotPrepared = prepared;
            await _guest.WriteAsync(AgentMessage.Create(0, new SnapshotPrepare()).ToWireBytes(), cancellationToken);
            await _guest.FlushAsync(cancellationToken);
            prepareSent = true;
            await prepared.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        }
        catch (Exception e)
        {
            _snapshotPrepared = null;
            if (e is TimeoutException && prepareSent)
            {
                // A slow agent may still get to "prepared" and then wait for a resume nobody would send, leaving the
                // guest paused for good: the resume follows the prepare in the frame order, so it is sent now
                // (releasing the gate), whatever the agent is doing.
                try
                {
                    await ResumeGuestAsync(resumeAfterTimeout(), CancellationToken.None);
                }
                catch (AgentProtocolException)
                {
                }
                throw new AgentProtocolException("the guest agent did not answer msb.snapshot.prepare within 10 s (it was sent a resume)");
            }
            _guestWriteGate.Release();
            if (e is TimeoutException) throw new AgentProtocolException("the guest agent did not answer msb.snapshot.prepare within 10 s");
            throw;
        }
        finally
        {
            _snapshotPrepared = null;
        }
    }

    /// <summary>Ends a quiesce: the guest takes <paramref name="resume"/> (clock, entropy, hostname), answers <c>core.ready</c>, and client frames flow again.</summary>
    internal async Task ResumeGuestAsync(SnapshotResume resume, CancellationToken cancellationToken)
    {
        try
        {
            var resumed = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            _snapshotResumed = resumed;
            await _guest.WriteAsync(AgentMessage.Create(0, resume).ToWireBytes(), cancellationToken);
            await _guest.FlushAsync(cancellationToken);
            var wire = await resumed.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            var message = AgentMessage.FromRawFrame(new RawFrame(0, wire[8], wire.AsMemory(9)));
            if (message.Type == MessageType.CoreError) throw AgentClient.CoreErrorException(message);
        }
        catch (TimeoutException)
        {
            throw new AgentProtocolException("the guest agent did not answer msb.snapshot.resume within 10 s");
        }
        finally
        {
            _snapshotResumed = null;
            _guestWriteGate.Release();
        }
    }

    /// <summary>
    /// Saves the sandbox as a ready-state template when a client sends <c>msb.snapshot.save</c> (the sandbox process
    /// sets it; without it the request is refused).
    /// </summary>
    internal Func<CancellationToken, Task<SnapshotSaved>>? SaveSnapshot { get; set; }

    /// <summary>
    /// Connects a client inside this process in a chosen <paramref name="slot"/>, so its correlation ids are the same
    /// in every run: a ready-state clone adopts the main process's session by its id.
    /// </summary>
    internal Stream ConnectInProcess(uint slot)
    {
        var (ours, theirs) = Host.Libc.SocketPair();
        var client = new RelayClient(slot, ours, _options.ClientQueueFrames);
        lock (_clientsLock)
        {
            if (!_clients.TryAdd(slot, client))
            {
                ours.Dispose();
                theirs.Dispose();
                throw new InvalidOperationException($"relay slot {slot} is taken");
            }
        }
        _ = Task.Run(() => ServeClientAsync(client));
        return new NetworkStream(theirs, ownsSocket: true);
    }

    private async Task AnswerSnapshotSaveAsync(RelayClient client, uint id, CancellationToken cancellationToken)
    {
        byte[] reply;
        try
        {
            var save = SaveSnapshot ?? throw new MicrosandboxException("this sandbox cannot save a ready-state snapshot (no ready-state template was asked for at launch)");
            reply = AgentMessage.Create(id, await save(cancellationToken)).ToWireBytes();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            reply = AgentMessage.Create(id, new CoreError("snapshot_failed", e.Message, SnapshotMessageType.Save)).ToWireBytes();
        }
        await client.Outbox.Writer.WriteAsync(reply, cancellationToken);
    }

    private async Task RouteToClientAsync(byte[] wire, uint id, byte flags)
    {
        var slot = Math.Min(id / AgentProtocol.RelayIdRangeStep, AgentProtocol.RelayMaxClients - 1);
        RelayClient? client;
        lock (_clientsLock)
        {
            if (_clients.TryGetValue(slot, out client) && (flags & FrameFlags.Terminal) != 0)
            {
                client.ActiveExecSessions.Remove(id);
            }
        }

        if (client is null)
        {
            LogNoClient(_logger, slot, id);
            return;
        }

        if (client.Outbox.Writer.TryWrite(wire))
        {
            return;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, client.Disconnect.Token);
        if (_options.SlowClientTimeout != Timeout.InfiniteTimeSpan)
        {
            wait.CancelAfter(_options.SlowClientTimeout);
        }

        try
        {
            await client.Outbox.Writer.WriteAsync(wire, wait.Token);
        }
        catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
        {
            if (!client.Disconnect.IsCancellationRequested)
            {
                LogSlowClient(_logger, client.Slot, _options.SlowClientTimeout.TotalSeconds);
                await client.Disconnect.CancelAsync();
            }
        }
        catch (ChannelClosedException)
        {
            // The client is going away; its frames are dropped.
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                LogAcceptFailed(_logger, e.Message);
                continue;
            }

            RelayClient? client = null;
            lock (_clientsLock)
            {
                for (uint slot = 0; slot < AgentProtocol.RelayMaxClients; slot++)
                {
                    if (!_clients.ContainsKey(slot))
                    {
                        client = new RelayClient(slot, socket, _options.ClientQueueFrames);
                        _clients[slot] = client;
                        _firstClient.TrySetResult();
                        break;
                    }
                }
            }

            if (client is null)
            {
                LogTooManyClients(_logger, AgentProtocol.RelayMaxClients);
                socket.Dispose();
                continue;
            }

            _ = Task.Run(() => ServeClientAsync(client));
        }
    }

    private async Task ServeClientAsync(RelayClient client)
    {
        LogClientConnected(_logger, client.Slot, client.IdStart, client.IdEndExclusive);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, client.Disconnect.Token);
        Task? writer = null;
        try
        {
            var greeting = new byte[8 + _readyFrame!.Length];
            BinaryPrimitives.WriteUInt32BigEndian(greeting, client.IdStart);
            BinaryPrimitives.WriteUInt32BigEndian(greeting.AsSpan(4), client.IdEndExclusive);
            _readyFrame.CopyTo(greeting, 8);
            await client.Stream.WriteAsync(greeting, stop.Token);

            writer = Task.Run(() => ClientWriterLoopAsync(client, stop));
            var input = new FrameReader(client.Stream);
            while (await input.ReadWireAsync(stop.Token) is { } wire)
            {
                var (id, flags) = FrameCodec.PeekHeader(wire);
                if (!client.Allows(id, flags))
                {
                    LogOutOfRange(_logger, client.Slot, id, client.IdStart, client.IdEndExclusive);
                    break;
                }

                Touch(ref _lastClientFrameTicks);
                var type = AgentMessage.PeekType(wire.AsMemory(9));
                if (type is not null && RefreshesIdleFromClient(type))
                {
                    Touch(ref _lastActivityTicks);
                }

                if ((flags & FrameFlags.SessionStart) != 0 && type == MessageType.ExecRequest)
                {
                    lock (_clientsLock)
                    {
                        client.ActiveExecSessions.Add(id);
                    }
                }

                if (type == SnapshotMessageType.Save)
                {
                    await AnswerSnapshotSaveAsync(client, id, stop.Token);
                    continue;
                }

                if ((flags & FrameFlags.Shutdown) != 0)
                {
                    LogShutdownRequested(_logger, client.Slot);
                    ShutdownRequested?.Invoke(this, EventArgs.Empty);
                }

                await _toGuest.Writer.WriteAsync(wire, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or AgentProtocolException or ChannelClosedException)
        {
            LogClientError(_logger, client.Slot, e.Message);
        }

        await DisconnectAsync(client, writer);
    }

    private static async Task ClientWriterLoopAsync(RelayClient client, CancellationTokenSource stop)
    {
        try
        {
            await foreach (var wire in client.Outbox.Reader.ReadAllAsync(stop.Token))
            {
                await client.Stream.WriteAsync(wire, stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // A client that cannot be written to is disconnected.
            await client.Disconnect.CancelAsync();
        }
    }

    private async Task DisconnectAsync(RelayClient client, Task? writer)
    {
        uint[] sessions;
        lock (_clientsLock)
        {
            _clients.Remove(client.Slot);
            sessions = [.. client.ActiveExecSessions];
        }

        client.Outbox.Writer.TryComplete();
        await client.Disconnect.CancelAsync();
        if (writer is not null)
        {
            await writer;
        }

        client.Stream.Dispose();
        LogClientDisconnected(_logger, client.Slot, sessions.Length);
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        try
        {
            foreach (var id in sessions)
            {
                await _toGuest.Writer.WriteAsync(AgentMessage.Create(id, new ExecSignal(SigKill)).ToWireBytes(), _stop.Token);
            }

            await _toGuest.Writer.WriteAsync(
                AgentMessage.Create(0, new RelayClientDisconnected(client.IdStart, client.IdEndExclusive)).ToWireBytes(), _stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
        }
    }

    private async Task ClockSyncLoopAsync(TimeSpan interval)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await _toGuest.Writer.WriteAsync(AgentMessage.Create(0, ClockSync.Now()).ToWireBytes(), _stop.Token);
                await Task.Delay(interval, _options.TimeProvider, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
        }
    }

    private void OnGuestClosed()
    {
        if (!_guestClosed.TrySetResult())
        {
            return;
        }

        _toGuest.Writer.TryComplete();
        _listener?.Dispose(); // no new clients for a guest that is gone
        List<RelayClient> clients;
        lock (_clientsLock)
        {
            clients = [.. _clients.Values];
        }

        foreach (var client in clients)
        {
            client.Disconnect.Cancel();
        }

        try
        {
            GuestClosed?.Invoke(this, EventArgs.Empty);
        }
        catch (Exception e)
        {
            LogGuestFailed(_logger, "closed handler", e.Message);
        }
    }

    private static bool RefreshesIdleFromClient(string type) => type is not (MessageType.Ping or MessageType.ClockSync);

    private static bool RefreshesIdleFromGuest(string type) =>
        type is not (MessageType.Pong or MessageType.Touched or MessageType.CoreError);

    private void Touch(ref long ticks) => Interlocked.Exchange(ref ticks, _options.TimeProvider.GetUtcNow().UtcTicks);

    /// <summary>Stops serving: closes the socket (and removes its file), every client, and the guest channel.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        _listener?.Dispose();
        _toGuest.Writer.TryComplete();
        List<RelayClient> clients;
        lock (_clientsLock)
        {
            clients = [.. _clients.Values];
        }

        foreach (var client in clients)
        {
            try { client.Disconnect.Cancel(); } catch (ObjectDisposedException) { }
        }

        await _guest.DisposeAsync();
        await Task.WhenAll(_tasks).ContinueWith(static _ => { }, TaskScheduler.Default);
        if (_listener is not null)
        {
            try { File.Delete(_socketPath); } catch (IOException) { }
        }

        _guestClosed.TrySetResult();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "agent relay: received core.ready from the guest agent")]
    private static partial void LogReady(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "agent relay: discarding pre-ready frame type={Type} id={Id}")]
    private static partial void LogDiscardedBeforeReady(ILogger logger, string type, uint id);

    [LoggerMessage(Level = LogLevel.Information, Message = "agent relay listening on {Path}")]
    private static partial void LogListening(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "agent relay: guest channel {Operation} ended: {Error}")]
    private static partial void LogGuestFailed(ILogger logger, string operation, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "agent relay: no client for slot={Slot} id={Id} (frame dropped)")]
    private static partial void LogNoClient(ILogger logger, uint slot, uint id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "agent relay: client slot={Slot} did not read for {Seconds} s; disconnecting it")]
    private static partial void LogSlowClient(ILogger logger, uint slot, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "agent relay: accept failed: {Error}")]
    private static partial void LogAcceptFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "agent relay: max clients ({Max}) reached, rejecting connection")]
    private static partial void LogTooManyClients(ILogger logger, uint max);

    [LoggerMessage(Level = LogLevel.Information, Message = "agent relay: client connected slot={Slot} id_start={IdStart} id_end_exclusive={IdEnd}")]
    private static partial void LogClientConnected(ILogger logger, uint slot, uint idStart, uint idEnd);

    [LoggerMessage(Level = LogLevel.Warning, Message = "agent relay: client slot={Slot} sent out-of-range id={Id} range=[{IdStart}, {IdEnd})")]
    private static partial void LogOutOfRange(ILogger logger, uint slot, uint id, uint idStart, uint idEnd);

    [LoggerMessage(Level = LogLevel.Information, Message = "agent relay: client slot={Slot} sent core.shutdown")]
    private static partial void LogShutdownRequested(ILogger logger, uint slot);

    [LoggerMessage(Level = LogLevel.Debug, Message = "agent relay: client slot={Slot} error: {Error}")]
    private static partial void LogClientError(ILogger logger, uint slot, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "agent relay: client disconnected slot={Slot}, killing {Sessions} active exec sessions")]
    private static partial void LogClientDisconnected(ILogger logger, uint slot, int sessions);
}
