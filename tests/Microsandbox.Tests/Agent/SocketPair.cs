using System.Net.Sockets;

namespace Microsandbox.Tests.Agent;

/// <summary>Two connected unix-socket streams (a real kernel socket pair, made through a listener in a temp dir).</summary>
internal sealed class SocketPair : IAsyncDisposable
{
    private SocketPair(NetworkStream left, NetworkStream right, string dir)
    {
        Left = left;
        Right = right;
        _dir = dir;
    }

    private readonly string _dir;

    public NetworkStream Left { get; }

    public NetworkStream Right { get; }

    public static async Task<SocketPair> CreateAsync()
    {
        var dir = TempDir.Create();
        var path = Path.Combine(dir, "p.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var accept = listener.AcceptAsync();
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        var server = await accept;
        return new SocketPair(new NetworkStream(client, ownsSocket: true), new NetworkStream(server, ownsSocket: true), dir);
    }

    public async ValueTask DisposeAsync()
    {
        await Left.DisposeAsync();
        await Right.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

internal static class TempDir
{
    /// <summary>A short, fresh directory under /tmp (unix socket paths are limited to 107 bytes).</summary>
    public static string Create()
    {
        var dir = Path.Combine("/tmp", "msbt-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
