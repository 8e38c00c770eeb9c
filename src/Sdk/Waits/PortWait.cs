using System.Globalization;
using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>
/// A listening socket on a guest port, read from <c>/proc/net/{tcp,tcp6,udp,udp6}</c> through the agent's file
/// operations, so the image needs no tools of its own.
/// </summary>
internal sealed record PortWait(int GuestPort, PortProtocol Protocol) : WaitStrategy
{
    // /proc/net/tcp's state column: 0A is LISTEN. An unconnected UDP socket is 07 (CLOSE).
    private const string TcpListen = "0A";
    private const string UdpBound = "07";
    private const int MaxTableBytes = 4 * 1024 * 1024;

    public override string Description => $"port {GuestPort}/{Protocol.ToString().ToLowerInvariant()}";

    internal override Task UntilAsync(Sandbox sandbox, CancellationToken cancellationToken) =>
        PollAsync(async ct =>
        {
            var kind = Protocol == PortProtocol.Udp ? "udp" : "tcp";
            foreach (var table in new[] { $"/proc/net/{kind}", $"/proc/net/{kind}6" })
            {
                string text;
                try
                {
                    // The guest writes this table: bounded (a real one is ~150 bytes per socket).
                    text = System.Text.Encoding.ASCII.GetString(await sandbox.Fs.ReadAsync(table, MaxTableBytes, ct).ConfigureAwait(false));
                }
                catch (SandboxFsException)
                {
                    continue; // no IPv6 in this guest
                }
                if (Listens(text, GuestPort, Protocol == PortProtocol.Udp ? UdpBound : TcpListen)) return true;
            }
            return false;
        }, cancellationToken);

    /// <summary>Whether a socket table has a socket in <paramref name="state"/> on local port <paramref name="port"/>.</summary>
    internal static bool Listens(string table, int port, string state)
    {
        foreach (var line in table.Split('\n').Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 4) continue;
            var local = fields[1];
            int colon = local.LastIndexOf(':');
            if (colon < 0 || !int.TryParse(local.AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var p)) continue;
            if (p == port && fields[3] == state) return true;
        }
        return false;
    }
}
