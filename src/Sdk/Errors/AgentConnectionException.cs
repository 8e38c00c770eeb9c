namespace Microsandbox;

/// <summary>The connection to the agent relay could not be made, or closed while an operation was in flight.</summary>
public sealed class AgentConnectionException : MicrosandboxException
{
    /// <summary>Creates the exception.</summary>
    public AgentConnectionException(string message) : base(message) { }

    /// <summary>Creates the exception wrapping its cause.</summary>
    public AgentConnectionException(string message, Exception? innerException) : base(message, innerException) { }
}
