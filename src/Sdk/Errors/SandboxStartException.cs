namespace Microsandbox;

/// <summary>A sandbox could not be started; the message carries the runtime's and the guest's own last words.</summary>
public sealed class SandboxStartException : MicrosandboxException
{
    /// <summary>Creates the exception.</summary>
    public SandboxStartException(string sandboxName, string reason)
        : base($"sandbox '{sandboxName}' failed to start: {reason}")
    {
        SandboxName = sandboxName;
    }

    /// <summary>The sandbox that failed.</summary>
    public string SandboxName { get; }

    /// <summary>The VMM itself ended before the guest was ready (as when it cannot resume a saved state).</summary>
    internal bool VmmExitedBeforeReady { get; init; }
}
