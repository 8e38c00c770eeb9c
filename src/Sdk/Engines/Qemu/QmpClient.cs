using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsandbox.Engines.Qemu;

/// <summary>
/// A minimal synchronous QMP (QEMU Machine Protocol) client over a unix socket: one JSON object per line, commands
/// answered in order by <c>return</c> or <c>error</c>, asynchronous <c>event</c> lines skipped. Used on a dedicated
/// thread by the template builder, which is why it blocks.
/// </summary>
internal sealed class QmpClient : IDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly NetworkStream _stream;

    /// <summary>How long QEMU may take to answer one command.</summary>
    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    private QmpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    /// <summary>Connects (retrying while QEMU creates the socket), reads the greeting and leaves negotiation mode.</summary>
    public static QmpClient Connect(string path, TimeSpan timeout, Func<bool> vmmAlive)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(path));
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && vmmAlive())
            {
                socket.Dispose();
                Thread.Sleep(5);
                continue;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            // A wedged QEMU must not hold this thread (and the template's build lock) for ever.
            socket.ReceiveTimeout = (int)ReplyTimeout.TotalMilliseconds;
            var client = new QmpClient(socket);
            try
            {
                client.ReadMessage(); // greeting: {"QMP": {...}}
                client.Execute("qmp_capabilities");
                return client;
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }
    }

    /// <summary>Runs one command and returns its <c>return</c> value.</summary>
    /// <exception cref="MicrosandboxException">QEMU answered with an error or closed the monitor.</exception>
    public JsonNode? Execute(string command, JsonObject? arguments = null)
    {
        var request = new JsonObject { ["execute"] = command };
        if (arguments is not null) request["arguments"] = arguments;
        var bytes = Encoding.UTF8.GetBytes(request.ToJsonString() + "\n");
        _stream.Write(bytes);
        while (true)
        {
            var message = ReadMessage();
            if (message["return"] is { } result) return result;
            if (message.ContainsKey("return")) return null;
            if (message["error"] is { } error)
                throw new MicrosandboxException($"QMP {command} failed: {error["desc"]?.GetValue<string>() ?? error.ToJsonString()}");
            // an event: not an answer
        }
    }

    /// <summary>Asks QEMU to exit; a monitor that closes instead of answering has done just that.</summary>
    public void Quit()
    {
        try
        {
            Execute("quit");
        }
        catch (Exception e) when (e is MicrosandboxException or IOException)
        {
        }
    }

    private JsonObject ReadMessage()
    {
        string? line;
        try
        {
            line = _reader.ReadLine();
        }
        catch (IOException e)
        {
            throw new MicrosandboxException($"QEMU's QMP monitor did not answer: {e.Message}");
        }
        if (line is null) throw new MicrosandboxException("QEMU closed its QMP monitor");
        return JsonNode.Parse(line) as JsonObject ?? throw new MicrosandboxException($"unexpected QMP line: {line}");
    }

    public void Dispose()
    {
        _reader.Dispose();
        _stream.Dispose();
        _socket.Dispose();
    }
}
