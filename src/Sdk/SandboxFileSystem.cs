using System.Text;
using Microsandbox.Agent;

namespace Microsandbox;

/// <summary>
/// Files in a running sandbox, through the agent's <c>core.fs.*</c> messages (streamed: large files never sit in one
/// frame). Copy-in and copy-out handle whole directory trees.
/// </summary>
public sealed class SandboxFileSystem
{
    private readonly AgentClient _agent;

    internal SandboxFileSystem(AgentClient agent) => _agent = agent;

    /// <summary>Reads a whole guest file.</summary>
    public Task<byte[]> ReadAsync(string path, CancellationToken cancellationToken = default) => _agent.ReadFileAsync(path, cancellationToken);

    /// <summary>
    /// Reads a guest file of at most <paramref name="maxBytes"/>: the guest decides a file's size, so a reader that
    /// must stay bounded says how much it takes.
    /// </summary>
    /// <exception cref="SandboxFsException">The file is longer than <paramref name="maxBytes"/>.</exception>
    public async Task<byte[]> ReadAsync(string path, int maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        using var buffer = new MemoryStream();
        await foreach (var chunk in _agent.ReadFileChunksAsync(path, cancellationToken).ConfigureAwait(false))
        {
            if (buffer.Length + chunk.Length > maxBytes)
                throw new SandboxFsException("read", path, $"longer than the {maxBytes} bytes this reader takes");
            buffer.Write(chunk.Span);
        }
        return buffer.ToArray();
    }

    /// <summary>Reads a guest file as UTF-8 text.</summary>
    public async Task<string> ReadTextAsync(string path, CancellationToken cancellationToken = default) =>
        Encoding.UTF8.GetString(await ReadAsync(path, cancellationToken).ConfigureAwait(false));

    /// <summary>Streams a guest file into <paramref name="destination"/>; returns the byte count.</summary>
    public Task<long> ReadAsync(string path, Stream destination, CancellationToken cancellationToken = default) =>
        _agent.ReadFileAsync(path, destination, cancellationToken);

    /// <summary>Creates or replaces a guest file.</summary>
    public Task WriteAsync(string path, ReadOnlyMemory<byte> content, uint? mode = null, CancellationToken cancellationToken = default) =>
        _agent.WriteFileAsync(path, content, mode, cancellationToken);

    /// <summary>Creates or replaces a guest file with UTF-8 text.</summary>
    public Task WriteTextAsync(string path, string content, uint? mode = null, CancellationToken cancellationToken = default) =>
        WriteAsync(path, Encoding.UTF8.GetBytes(content), mode, cancellationToken);

    /// <summary>Streams <paramref name="source"/> into a guest file.</summary>
    public Task WriteAsync(string path, Stream source, uint? mode = null, CancellationToken cancellationToken = default) =>
        _agent.WriteFileAsync(path, source, mode, cancellationToken);

    /// <summary>The entries of a guest directory.</summary>
    public Task<IReadOnlyList<FsEntryInfo>> ListAsync(string path, CancellationToken cancellationToken = default) => _agent.ListAsync(path, cancellationToken);

    /// <summary>Metadata of a guest path.</summary>
    public Task<FsEntryInfo> StatAsync(string path, CancellationToken cancellationToken = default) => _agent.StatAsync(path, true, cancellationToken);

    /// <summary>True when the guest path exists.</summary>
    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            await _agent.StatAsync(path, false, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SandboxFsException)
        {
            return false;
        }
    }

    /// <summary>Creates a guest directory (and its parents).</summary>
    public Task MkdirAsync(string path, uint? mode = null, CancellationToken cancellationToken = default) => _agent.MkdirAsync(path, mode, cancellationToken);

    /// <summary>Removes a guest file, or a directory with <paramref name="recursive"/>.</summary>
    public async Task RemoveAsync(string path, bool recursive = false, CancellationToken cancellationToken = default)
    {
        var info = await _agent.StatAsync(path, false, cancellationToken).ConfigureAwait(false);
        if (info.IsDirectory) await _agent.RemoveDirAsync(path, recursive, cancellationToken).ConfigureAwait(false);
        else await _agent.RemoveAsync(path, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Renames a guest path.</summary>
    public Task RenameAsync(string source, string destination, CancellationToken cancellationToken = default) =>
        _agent.RenameAsync(source, destination, cancellationToken);

    /// <summary>
    /// Copies a host file or directory tree into the guest at <paramref name="guestPath"/>, with the host's modes (or
    /// <paramref name="mode"/> for files) and, when given, owner <paramref name="uid"/>:<paramref name="gid"/>.
    /// </summary>
    public Task CopyInAsync(string hostPath, string guestPath, uint? mode = null, uint? uid = null, uint? gid = null, CancellationToken cancellationToken = default) =>
        GuestCopy.CopyInAsync(_agent, hostPath, guestPath, mode, uid, gid, cancellationToken);

    /// <summary>Changes a guest path's owner.</summary>
    public Task ChownAsync(string path, uint uid, uint gid, CancellationToken cancellationToken = default) =>
        _agent.SetAttributesAsync(path, new FsSetAttrs { Uid = uid, Gid = gid }, cancellationToken);

    /// <summary>Copies a guest file or directory tree out to <paramref name="hostPath"/>.</summary>
    public async Task CopyOutAsync(string guestPath, string hostPath, CancellationToken cancellationToken = default)
    {
        var info = await _agent.StatAsync(guestPath, true, cancellationToken).ConfigureAwait(false);
        if (!info.IsDirectory)
        {
            await using var target = File.Create(hostPath);
            await _agent.ReadFileAsync(guestPath, target, cancellationToken).ConfigureAwait(false);
            return;
        }
        Directory.CreateDirectory(hostPath);
        foreach (var entry in await _agent.ListAsync(guestPath, cancellationToken).ConfigureAwait(false))
        {
            var name = System.IO.Path.GetFileName(entry.Path.TrimEnd('/'));
            if (name is "." or ".." || entry.IsSymlink) continue;
            await CopyOutAsync(guestPath.TrimEnd('/') + "/" + name, System.IO.Path.Combine(hostPath, name), cancellationToken).ConfigureAwait(false);
        }
    }

}
