namespace Microsandbox;

/// <summary>Base type of every error this toolkit raises on purpose.</summary>
public class MicrosandboxException : Exception
{
    /// <summary>Creates the exception with a message that says what went wrong and, where known, how to fix it.</summary>
    public MicrosandboxException(string message) : base(message) { }

    /// <summary>Creates the exception wrapping the error that caused it.</summary>
    public MicrosandboxException(string message, Exception? innerException) : base(message, innerException) { }
}
