using System.Threading.Channels;

namespace Microsandbox.Agent;

/// <summary>
/// One correlation id of an <see cref="AgentClient"/> and the bounded queue its incoming frames land in.
/// A full queue makes the client's reader wait, which is how back-pressure reaches the relay and the guest.
/// </summary>
internal sealed class AgentSession
{
    public AgentSession(uint id, int capacity)
    {
        Id = id;
        Inbox = Channel.CreateBounded<AgentMessage>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public uint Id { get; }

    public Channel<AgentMessage> Inbox { get; }

    /// <summary>Set once a terminal frame was routed here; later frames for the id are not expected.</summary>
    public bool Finished { get; set; }

    /// <summary>Reads the next frame, or null when the session ended (terminal frame consumed).</summary>
    /// <exception cref="AgentConnectionException">The connection closed before the session finished.</exception>
    public async ValueTask<AgentMessage?> NextAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await Inbox.Reader.WaitToReadAsync(cancellationToken) && Inbox.Reader.TryRead(out var message))
            {
                return message;
            }

            return null;
        }
        catch (ChannelClosedException e) when (e.InnerException is not null)
        {
            throw e.InnerException is MicrosandboxException mse
                ? Rethrow(mse)
                : new AgentConnectionException(e.InnerException.Message, e.InnerException);
        }
    }

    private static MicrosandboxException Rethrow(MicrosandboxException e) => e switch
    {
        AgentConnectionException c => new AgentConnectionException(c.Message, c),
        AgentProtocolException p => new AgentProtocolException(p.Message, p),
        _ => e,
    };
}
