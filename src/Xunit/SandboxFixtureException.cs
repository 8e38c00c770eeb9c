namespace Microsandbox.Xunit;

/// <summary>
/// A test sandbox could not start. Thrown in every test that uses the fixture (or pool) that failed, with the original
/// error as <see cref="Exception.InnerException"/> and the guest's logs in the message and in <see cref="GuestLogs"/>.
/// </summary>
public sealed class SandboxFixtureException : MicrosandboxException
{
    /// <summary>Creates the exception.</summary>
    public SandboxFixtureException(string sandboxName, string? guestLogs, Exception innerException)
        : base(Describe(sandboxName, guestLogs, innerException), innerException)
    {
        SandboxName = sandboxName;
        GuestLogs = guestLogs;
    }

    /// <summary>The sandbox that failed.</summary>
    public string SandboxName { get; }

    /// <summary>The runtime log and guest console captured after the failure, when there were any.</summary>
    public string? GuestLogs { get; }

    private static string Describe(string name, string? logs, Exception cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        var text = $"test sandbox '{name}' failed to start: {cause.GetType().Name}: {cause.Message}";
        return string.IsNullOrWhiteSpace(logs) ? text + " (no guest logs were written)" : text + "\n" + logs;
    }
}
