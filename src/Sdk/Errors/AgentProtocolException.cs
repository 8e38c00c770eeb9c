namespace Microsandbox;

/// <summary>
/// The agent protocol was broken: a frame too large or truncated, CBOR that does not decode, a bad relay handshake,
/// a <c>core.error</c> from the peer, or an operation the sandbox's protocol generation does not support.
/// </summary>
public sealed class AgentProtocolException : MicrosandboxException
{
    /// <summary>Creates the exception.</summary>
    public AgentProtocolException(string message) : base(message) { }

    /// <summary>Creates the exception wrapping its cause.</summary>
    public AgentProtocolException(string message, Exception? innerException) : base(message, innerException) { }
}
