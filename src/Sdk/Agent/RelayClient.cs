using System.Net.Sockets;
using System.Threading.Channels;

namespace Microsandbox.Agent;

/// <summary>One client connected to an <see cref="AgentRelay"/>: its slot, id range, outgoing queue and open exec sessions.</summary>
internal sealed class RelayClient
{
    public RelayClient(uint slot, Socket socket, int queueFrames)
    {
        Slot = slot;
        Socket = socket;
        Stream = new NetworkStream(socket, ownsSocket: true);
        var offset = slot * AgentProtocol.RelayIdRangeStep;
        IdStart = offset + 1;
        IdEndExclusive = offset + AgentProtocol.RelayIdRangeStep;
        // Synchronous continuations: while the client keeps up, the guest reader's thread writes its frames straight
        // to the socket; the queue only fills (and decouples) when the client is slow.
        Outbox = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(queueFrames)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = true,
        });
    }

    public uint Slot { get; }

    public Socket Socket { get; }

    public NetworkStream Stream { get; }

    public uint IdStart { get; }

    public uint IdEndExclusive { get; }

    /// <summary>Guest frames waiting to be written to this client.</summary>
    public Channel<byte[]> Outbox { get; }

    /// <summary>Exec sessions this client opened and the guest has not ended; killed if the client goes away.</summary>
    public HashSet<uint> ActiveExecSessions { get; } = [];

    /// <summary>Cancelled to disconnect the client (e.g. when it stops reading).</summary>
    public CancellationTokenSource Disconnect { get; } = new();

    /// <summary>Whether a client frame may go to the guest: ids in the client's range, or the id-0 shutdown control frame.</summary>
    public bool Allows(uint id, byte flags) =>
        ((flags & FrameFlags.Shutdown) != 0 && id == 0) || (id >= IdStart && id < IdEndExclusive);
}
