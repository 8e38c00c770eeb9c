using Microsandbox.Agent;

namespace Microsandbox;

/// <summary>
/// A command never ran in the guest: it was not found, not executable, its working directory or user was unusable,
/// and so on (the guest's <c>core.exec.failed</c>). A command that ran and exited non-zero is not an error.
/// </summary>
public sealed class ExecFailedException : MicrosandboxException
{
    /// <summary>Creates the exception from the guest's report about <paramref name="command"/>.</summary>
    public ExecFailedException(string command, ExecFailed failure)
        : base(Describe(command, failure))
    {
        Command = command;
        Failure = failure;
    }

    /// <summary>The program the request asked for.</summary>
    public string Command { get; }

    /// <summary>The guest's structured report.</summary>
    public ExecFailed Failure { get; }

    private static string Describe(string command, ExecFailed failure)
    {
        var what = failure.Kind switch
        {
            ExecFailureKind.NotFound => "command not found",
            ExecFailureKind.PermissionDenied => "permission denied",
            ExecFailureKind.NotExecutable => "not an executable the guest can run",
            ExecFailureKind.BadCwd => "working directory unusable",
            ExecFailureKind.BadArgs => "bad arguments or environment",
            ExecFailureKind.ResourceLimit => "resource limit prevented the start",
            ExecFailureKind.UserSetupFailed => "user setup failed",
            ExecFailureKind.OutOfMemory => "out of memory",
            ExecFailureKind.PtySetupFailed => "terminal setup failed",
            _ => "failed to start",
        };
        var errno = failure.ErrnoName ?? (failure.Errno is { } n ? $"errno {n}" : null);
        var detail = string.Join(", ", new[] { errno, failure.Stage is null ? null : $"stage {failure.Stage}" }
            .Where(s => s is not null));
        return detail.Length == 0
            ? $"'{command}': {what}: {failure.Message}"
            : $"'{command}': {what} ({detail}): {failure.Message}";
    }
}
