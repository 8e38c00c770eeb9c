namespace Microsandbox;

/// <summary>A filesystem operation in the guest failed; the message is the guest's own error text.</summary>
public sealed class SandboxFsException : MicrosandboxException
{
    /// <summary>Creates the exception for <paramref name="operation"/> on <paramref name="path"/>.</summary>
    public SandboxFsException(string operation, string path, string guestError)
        : base($"{operation} '{path}' in the sandbox failed: {guestError}")
    {
        Operation = operation;
        Path = path;
        GuestError = guestError;
    }

    /// <summary>The operation that failed (e.g. <c>read</c>, <c>stat</c>).</summary>
    public string Operation { get; }

    /// <summary>The guest path the operation was about.</summary>
    public string Path { get; }

    /// <summary>The guest's error text.</summary>
    public string GuestError { get; }
}
