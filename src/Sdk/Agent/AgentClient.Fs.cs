using System.Runtime.CompilerServices;

namespace Microsandbox.Agent;

public sealed partial class AgentClient
{
    /// <summary>Metadata of a guest path.</summary>
    /// <exception cref="SandboxFsException">The guest reported an error (e.g. the path does not exist).</exception>
    public async Task<FsEntryInfo> StatAsync(string path, bool followSymlink = true, CancellationToken cancellationToken = default)
    {
        var response = await FsCallAsync("stat", path, new FsOp.Stat(path, followSymlink), cancellationToken);
        return response.Data is FsResponseData.Stat stat
            ? stat.Info
            : throw new AgentProtocolException($"stat '{path}': the guest answered without stat data");
    }

    /// <summary>The entries of a guest directory.</summary>
    public async Task<IReadOnlyList<FsEntryInfo>> ListAsync(string path, CancellationToken cancellationToken = default)
    {
        var response = await FsCallAsync("list", path, new FsOp.List(path), cancellationToken);
        return response.Data is FsResponseData.List list ? list.Entries : [];
    }

    /// <summary>Creates a guest directory and its parents.</summary>
    public Task MkdirAsync(string path, uint? mode = null, CancellationToken cancellationToken = default) =>
        FsCallAsync("mkdir", path, new FsOp.Mkdir(path, mode), cancellationToken);

    /// <summary>Removes a guest file.</summary>
    public Task RemoveAsync(string path, CancellationToken cancellationToken = default) =>
        FsCallAsync("remove", path, new FsOp.Remove(path), cancellationToken);

    /// <summary>Removes a guest directory, with its contents when <paramref name="recursive"/>.</summary>
    public Task RemoveDirAsync(string path, bool recursive = false, CancellationToken cancellationToken = default) =>
        FsCallAsync("remove directory", path, new FsOp.RemoveDir(path, recursive), cancellationToken);

    /// <summary>Renames or moves a guest file or directory.</summary>
    public Task RenameAsync(string source, string destination, CancellationToken cancellationToken = default) =>
        FsCallAsync("rename", source, new FsOp.Rename(source, destination), cancellationToken);

    /// <summary>Sets a guest path's mode, owner, size or times (the fields left null stay); symlinks are not followed.</summary>
    public Task SetAttributesAsync(string path, FsSetAttrs attributes, CancellationToken cancellationToken = default) =>
        FsCallAsync("set attributes of", path, new FsOp.SetStat(path, false, attributes ?? throw new ArgumentNullException(nameof(attributes))), cancellationToken);

    /// <summary>Copies a guest file or directory inside the guest.</summary>
    public Task CopyAsync(string source, string destination, CancellationToken cancellationToken = default) =>
        FsCallAsync("copy", source, new FsOp.Copy(source, destination), cancellationToken);

    /// <summary>Sends any single-reply filesystem operation and returns the guest's response as it is (ok or not).</summary>
    public async Task<FsResponse> FsRequestAsync(FsOp op, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (op is FsOp.Read or FsOp.Write)
        {
            throw new ArgumentException("Read and Write stream data; use ReadFileChunksAsync / WriteFileAsync", nameof(op));
        }

        var reply = await RequestAsync(new FsRequest(op), cancellationToken);
        ExpectType(reply, MessageType.FsResponse);
        return reply.ReadPayload<FsResponse>();
    }

    /// <summary>
    /// Streams a guest file as it arrives (chunks of up to 3 MiB), as upstream does: open a read handle, a
    /// <c>Read</c> session that answers <c>core.fs.data</c> chunks then <c>core.fs.response</c>, and close the handle.
    /// At most <see cref="AgentClientOptions.FsBufferFrames"/> chunks are buffered ahead of the consumer.
    /// </summary>
    /// <exception cref="SandboxFsException">The guest could not open or read the file.</exception>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadFileChunksAsync(
        string path, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var handle = await OpenHandleAsync(path, FsOpenOptions.ForRead, "read", cancellationToken);
        try
        {
            var session = await OpenSessionAsync(new FsRequest(new FsOp.Read(handle, 0, null)), _options.FsBufferFrames, cancellationToken);
            try
            {
                while (await session.NextAsync(cancellationToken) is { } message)
                {
                    switch (message.Type)
                    {
                        case MessageType.FsData:
                            var data = message.ReadPayload<FsData>().Data;
                            if (!data.IsEmpty)
                            {
                                yield return data;
                            }

                            break;
                        case MessageType.FsResponse:
                            ThrowIfFailed("read", path, message.ReadPayload<FsResponse>());
                            yield break;
                        case MessageType.CoreError:
                            throw CoreErrorException(message);
                    }
                }

                throw new AgentConnectionException($"read '{path}': the session ended without a core.fs.response");
            }
            finally
            {
                CloseSession(session);
            }
        }
        finally
        {
            await CloseHandleQuietlyAsync(handle);
        }
    }

    /// <summary>Reads a whole guest file into memory.</summary>
    public async Task<byte[]> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        await ReadFileAsync(path, buffer, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>Copies a guest file into <paramref name="destination"/>; returns the byte count.</summary>
    public async Task<long> ReadFileAsync(string path, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        long total = 0;
        await foreach (var chunk in ReadFileChunksAsync(path, cancellationToken))
        {
            await destination.WriteAsync(chunk, cancellationToken);
            total += chunk.Length;
        }

        return total;
    }

    /// <summary>Writes (creates or truncates) a guest file with <paramref name="data"/>.</summary>
    public Task WriteFileAsync(string path, ReadOnlyMemory<byte> data, uint? mode = null, CancellationToken cancellationToken = default) =>
        WriteFileAsync(path, new MemoryStream(data.ToArray(), writable: false), mode, cancellationToken);

    /// <summary>
    /// Streams <paramref name="source"/> into a guest file (created or truncated), in chunks of up to 3 MiB, as upstream
    /// does: open a write handle, a <c>Write</c> session fed with <c>core.fs.data</c> and ended by an empty chunk, then
    /// wait for <c>core.fs.response</c> and close the handle.
    /// </summary>
    /// <exception cref="SandboxFsException">The guest could not open or write the file.</exception>
    public async Task WriteFileAsync(string path, Stream source, uint? mode = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ulong? length = source.CanSeek ? (ulong)(source.Length - source.Position) : null;
        var handle = await OpenHandleAsync(path, FsOpenOptions.ForWrite with { Mode = mode }, "write", cancellationToken);
        try
        {
            var session = await OpenSessionAsync(new FsRequest(new FsOp.Write(handle, 0, length)), 1, cancellationToken);
            try
            {
                var buffer = new byte[(int)Math.Min(AgentProtocol.FsChunkSize, Math.Max(1, (long)(length ?? AgentProtocol.FsChunkSize)))];
                while (true)
                {
                    var read = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
                    if (read == 0)
                    {
                        break;
                    }

                    // The guest answers early only when the write failed; stop sending then.
                    if (session.Inbox.Reader.TryPeek(out _))
                    {
                        break;
                    }

                    await SendAsync(session.Id, new FsData(buffer.AsMemory(0, read)), cancellationToken);
                    if (read < buffer.Length)
                    {
                        break;
                    }
                }

                if (!session.Inbox.Reader.TryPeek(out _))
                {
                    await SendAsync(session.Id, new FsData(ReadOnlyMemory<byte>.Empty), cancellationToken);
                }

                var reply = await session.NextAsync(cancellationToken)
                            ?? throw new AgentConnectionException($"write '{path}': the session ended without a core.fs.response");
                if (reply.Type == MessageType.CoreError)
                {
                    throw CoreErrorException(reply);
                }

                ExpectType(reply, MessageType.FsResponse);
                ThrowIfFailed("write", path, reply.ReadPayload<FsResponse>());
            }
            finally
            {
                CloseSession(session);
            }
        }
        finally
        {
            await CloseHandleQuietlyAsync(handle);
        }
    }

    private async Task<ulong> OpenHandleAsync(string path, FsOpenOptions options, string operation, CancellationToken cancellationToken)
    {
        var response = await FsCallAsync(operation, path, new FsOp.OpenFile(path, options), cancellationToken);
        return response.Data is FsResponseData.Handle handle
            ? handle.Value
            : throw new AgentProtocolException($"{operation} '{path}': the guest opened the file without returning a handle");
    }

    private async Task CloseHandleQuietlyAsync(ulong handle)
    {
        try
        {
            await FsRequestAsync(new FsOp.CloseHandle(handle), CancellationToken.None);
        }
        catch (MicrosandboxException)
        {
            // Closing is best-effort: the guest frees a client's handles when the client disconnects.
        }
    }

    private async Task<FsResponse> FsCallAsync(string operation, string path, FsOp op, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var response = await FsRequestAsync(op, cancellationToken);
        ThrowIfFailed(operation, path, response);
        return response;
    }

    private static void ThrowIfFailed(string operation, string path, FsResponse response)
    {
        if (!response.Ok)
        {
            throw new SandboxFsException(operation, path, response.Error ?? "unknown error");
        }
    }
}
