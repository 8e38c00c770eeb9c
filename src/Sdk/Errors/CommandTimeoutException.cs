namespace Microsandbox;

/// <summary>A command run in a sandbox did not finish within its time limit and was killed.</summary>
public sealed class CommandTimeoutException : MicrosandboxException
{
    /// <summary>Creates the exception.</summary>
    public CommandTimeoutException(string sandboxName, string command, TimeSpan timeout)
        : base($"the command '{command}' in sandbox '{sandboxName}' did not finish within {timeout.TotalSeconds:0.###} s and was killed")
    {
        SandboxName = sandboxName;
        Command = command;
        Timeout = timeout;
    }

    /// <summary>The sandbox the command ran in.</summary>
    public string SandboxName { get; }

    /// <summary>The command line.</summary>
    public string Command { get; }

    /// <summary>The time limit.</summary>
    public TimeSpan Timeout { get; }
}
