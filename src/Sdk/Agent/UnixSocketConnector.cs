using System.Net.Sockets;

namespace Microsandbox.Agent;

/// <summary>
/// Connects to a unix socket that may not be ready yet: QEMU and the relay create the socket file slightly before
/// they accept, so a missing file or a refused connection is retried until the deadline.
/// </summary>
public static class UnixSocketConnector
{
    /// <summary>Connects to <paramref name="socketPath"/>, retrying for up to <paramref name="timeout"/>; returns a stream that owns the socket.</summary>
    /// <exception cref="AgentConnectionException">Still no connection when the timeout ran out.</exception>
    public static async Task<NetworkStream> ConnectAsync(string socketPath, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        var deadline = DateTime.UtcNow + timeout;
        var endpoint = new UnixDomainSocketEndPoint(socketPath);
        var delay = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(endpoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e) when (IsRetryable(e) && DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 100));
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new AgentConnectionException(
                    $"connect to unix socket '{socketPath}' failed after {timeout.TotalSeconds:0.#} s: {e.Message}", e);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    private static bool IsRetryable(SocketException e) =>
        e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.ConnectionRefused or SocketError.TryAgain
        || e.ErrorCode == 2 /* ENOENT: the socket file does not exist yet */;
}
