using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Microsandbox.Agent;

namespace Microsandbox.Tests.Agent;

/// <summary>
/// A guest agent written for the tests: speaks the protocol over a stream the way agentd does (exec with a handful
/// of built-in commands, fs over an in-memory tree, ping/touch/shutdown) and records what it received.
/// </summary>
internal sealed class FakeGuestAgent : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<uint, Channel<AgentMessage>> _execInputs = new();
    private readonly ConcurrentDictionary<ulong, string> _handles = new();
    private readonly ConcurrentDictionary<uint, (ulong Handle, MemoryStream Data)> _writes = new();
    private readonly CancellationTokenSource _stop = new();
    private ulong _nextHandle = 100;
    private ulong _activity;
    private long _framesWritten;
    private Task? _loop;

    public FakeGuestAgent(Stream stream) => _stream = stream;

    public ConcurrentQueue<AgentMessage> Received { get; } = new();

    public ConcurrentDictionary<string, byte[]> Files { get; } = new();

    public ConcurrentDictionary<string, bool> Dirs { get; } = new(new Dictionary<string, bool> { ["/"] = true });

    /// <summary>Chunk size used when streaming file reads back.</summary>
    public int ReadChunkSize { get; init; } = AgentProtocol.FsChunkSize;

    public long FramesWritten => Interlocked.Read(ref _framesWritten);

    public Task Completion => _loop ?? Task.CompletedTask;

    public static AgentMessage ReadyMessage(byte version = AgentProtocol.Version) =>
        AgentMessage.Create(0, new Ready(1_000, 2_000, 3_000, "fake-1.0")) with { Version = version };

    /// <summary>Plays the relay's part for a direct client: id range then the ready frame.</summary>
    public async Task SendHandshakeAsync(uint idStart, uint idEnd, byte version = AgentProtocol.Version)
    {
        var greeting = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(greeting, idStart);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(greeting.AsSpan(4), idEnd);
        await _stream.WriteAsync(greeting);
        await _stream.WriteAsync(ReadyMessage(version).ToWireBytes());
        await _stream.FlushAsync();
    }

    /// <summary>Sends a frame as the guest would (e.g. core.ready to a relay).</summary>
    public Task SendAsync(AgentMessage message) => WriteAsync(message);

    public void Start() => _loop = Task.Run(LoopAsync);

    private async Task LoopAsync()
    {
        try
        {
            while (await FrameCodec.ReadAsync(_stream, _stop.Token) is { } frame)
            {
                var message = AgentMessage.FromRawFrame(frame);
                Received.Enqueue(message);
                await HandleAsync(message);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    private async Task HandleAsync(AgentMessage m)
    {
        switch (m.Type)
        {
            case MessageType.Ping:
                await WriteAsync(AgentMessage.Create(m.Id, new Pong()));
                break;
            case MessageType.Touch:
                await WriteAsync(AgentMessage.Create(m.Id, new Touched(Interlocked.Increment(ref _activity))));
                break;
            case MessageType.ExecRequest:
                var input = Channel.CreateUnbounded<AgentMessage>();
                _execInputs[m.Id] = input;
                _ = Task.Run(() => RunCommandAsync(m.Id, m.ReadPayload<ExecRequest>(), input.Reader));
                break;
            case MessageType.ExecStdin or MessageType.ExecSignal:
                if (_execInputs.TryGetValue(m.Id, out var inbox))
                {
                    await inbox.Writer.WriteAsync(m);
                }

                break;
            case MessageType.FsRequest:
                await HandleFsAsync(m.Id, m.ReadPayload<FsRequest>().Op);
                break;
            case MessageType.FsData:
                await HandleFsDataAsync(m.Id, m.ReadPayload<FsData>().Data);
                break;
        }
    }

    private async Task RunCommandAsync(uint id, ExecRequest request, ChannelReader<AgentMessage> input)
    {
        try
        {
            switch (request.Cmd)
            {
                case "echo":
                    await Started(id);
                    await WriteAsync(AgentMessage.Create(id, new ExecStdout(Encoding.UTF8.GetBytes(string.Join(' ', request.Args) + "\n"))));
                    await WriteAsync(AgentMessage.Create(id, new ExecExited(0)));
                    break;
                case "fail":
                    await Started(id);
                    await WriteAsync(AgentMessage.Create(id, new ExecStderr("boom\n"u8.ToArray())));
                    await WriteAsync(AgentMessage.Create(id, new ExecExited(int.Parse(request.Args[0]))));
                    break;
                case "cat":
                    await Started(id);
                    await foreach (var m in input.ReadAllAsync())
                    {
                        if (m.Type != MessageType.ExecStdin) continue;
                        var data = m.ReadPayload<ExecStdin>().Data;
                        if (data.IsEmpty) break;
                        await WriteAsync(AgentMessage.Create(id, new ExecStdout(data)));
                    }

                    await WriteAsync(AgentMessage.Create(id, new ExecExited(0)));
                    break;
                case "flood":
                    await Started(id);
                    var count = int.Parse(request.Args[0]);
                    var size = int.Parse(request.Args[1]);
                    for (var i = 0; i < count; i++)
                    {
                        var chunk = new byte[size];
                        Array.Fill(chunk, (byte)(i % 251));
                        await WriteAsync(AgentMessage.Create(id, new ExecStdout(chunk)));
                    }

                    await WriteAsync(AgentMessage.Create(id, new ExecExited(0)));
                    break;
                case "sleep":
                    await Started(id);
                    await foreach (var m in input.ReadAllAsync())
                    {
                        if (m.Type == MessageType.ExecSignal)
                        {
                            await WriteAsync(AgentMessage.Create(id, new ExecExited(128 + m.ReadPayload<ExecSignal>().Signal)));
                            break;
                        }
                    }

                    break;
                default:
                    await WriteAsync(AgentMessage.Create(id, new ExecFailed(ExecFailureKind.NotFound, 2, "ENOENT",
                        $"failed to execute '{request.Cmd}': No such file or directory (os error 2)", "execvp")));
                    break;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            _execInputs.TryRemove(id, out _);
        }
    }

    private Task Started(uint id) => WriteAsync(AgentMessage.Create(id, new ExecStarted(4242 + id % 1000)));

    private async Task HandleFsAsync(uint id, FsOp op)
    {
        FsResponse Fail(string error) => new(false, error);
        FsEntryInfo Info(string path) => Files.TryGetValue(path, out var bytes)
            ? new FsEntryInfo(path, "file", (ulong)bytes.Length, 0x81a4, 1, 0, 0, 1, 1)
            : new FsEntryInfo(path, "dir", 4096, 0x41ed, 1, 0, 0, 1, 1);
        FsResponse response;
        switch (op)
        {
            case FsOp.OpenFile open:
                if (open.Options.Write)
                {
                    Files[open.Path] = [];
                }
                else if (!Files.ContainsKey(open.Path))
                {
                    response = Fail($"open: No such file or directory (os error 2)");
                    break;
                }

                var handle = Interlocked.Increment(ref _nextHandle);
                _handles[handle] = open.Path;
                response = new FsResponse(true, null, new FsResponseData.Handle(handle));
                break;
            case FsOp.CloseHandle close:
                response = _handles.TryRemove(close.Handle, out _) ? new FsResponse(true) : Fail("unknown handle");
                break;
            case FsOp.Read read:
                if (!_handles.TryGetValue(read.Handle, out var readPath))
                {
                    response = Fail("read: unknown handle");
                    break;
                }

                var content = Files[readPath];
                for (var offset = (int)read.Offset; offset < content.Length; offset += ReadChunkSize)
                {
                    await WriteAsync(AgentMessage.Create(id, new FsData(content.AsMemory(offset, Math.Min(ReadChunkSize, content.Length - offset)))));
                }

                response = new FsResponse(true);
                break;
            case FsOp.Write write:
                if (!_handles.TryGetValue(write.Handle, out _))
                {
                    response = Fail("write: unknown handle");
                    break;
                }

                _writes[id] = (write.Handle, new MemoryStream());
                return;
            case FsOp.Stat stat:
                response = Files.ContainsKey(stat.Path) || Dirs.ContainsKey(stat.Path)
                    ? new FsResponse(true, null, new FsResponseData.Stat(Info(stat.Path)))
                    : Fail("stat: No such file or directory (os error 2)");
                break;
            case FsOp.List list:
                var prefix = list.Path.TrimEnd('/') + "/";
                var entries = Files.Keys.Concat(Dirs.Keys)
                    .Where(p => p.StartsWith(prefix, StringComparison.Ordinal) && p.Length > prefix.Length && !p[prefix.Length..].Contains('/'))
                    .Order().Select(Info).ToList();
                response = new FsResponse(true, null, new FsResponseData.List(entries));
                break;
            case FsOp.Mkdir mkdir:
                Dirs[mkdir.Path] = true;
                response = new FsResponse(true);
                break;
            case FsOp.Remove remove:
                response = Files.TryRemove(remove.Path, out _) ? new FsResponse(true) : Fail("remove: No such file or directory (os error 2)");
                break;
            case FsOp.Rename rename:
                if (Files.TryRemove(rename.Src, out var moved))
                {
                    Files[rename.Dst] = moved;
                    response = new FsResponse(true);
                }
                else
                {
                    response = Fail("rename: No such file or directory (os error 2)");
                }

                break;
            default:
                response = Fail($"unsupported op {op.Variant}");
                break;
        }

        await WriteAsync(AgentMessage.Create(id, response));
    }

    private async Task HandleFsDataAsync(uint id, ReadOnlyMemory<byte> data)
    {
        if (!_writes.TryGetValue(id, out var write))
        {
            await WriteAsync(AgentMessage.Create(id, new FsResponse(false, $"unknown write session: {id}")));
            return;
        }

        if (!data.IsEmpty)
        {
            write.Data.Write(data.Span);
            return;
        }

        _writes.TryRemove(id, out _);
        Files[_handles[write.Handle]] = write.Data.ToArray();
        await WriteAsync(AgentMessage.Create(id, new FsResponse(true)));
    }

    private async Task WriteAsync(AgentMessage message)
    {
        var wire = message.ToWireBytes();
        await _writeLock.WaitAsync();
        try
        {
            await _stream.WriteAsync(wire);
            await _stream.FlushAsync();
            Interlocked.Increment(ref _framesWritten);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _stream.DisposeAsync();
        if (_loop is not null)
        {
            await _loop;
        }
    }
}
