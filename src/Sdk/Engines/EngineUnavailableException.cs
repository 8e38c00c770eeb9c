namespace Microsandbox.Engines;

/// <summary>An engine cannot run on this host; the message says why and how to fix it.</summary>
public sealed class EngineUnavailableException : MicrosandboxException
{
    /// <summary>Creates the exception.</summary>
    public EngineUnavailableException(string engine, string reason)
        : base($"{engine} engine unavailable: {reason}")
    {
        Engine = engine;
        Reason = reason;
    }

    /// <summary>qemu or krun.</summary>
    public string Engine { get; }

    /// <summary>Why, with the fix.</summary>
    public string Reason { get; }
}
