namespace Microsandbox.Orchestration;

/// <summary>A command a build step runs in a sandbox: argv (never joined into a shell string), environment, directory, time limit.</summary>
/// <param name="Program">The program (looked up on the guest's PATH when not absolute).</param>
public sealed record CommandRequest(string Program)
{
    /// <summary>Arguments, passed as-is.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Extra environment variables for this command.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Working directory; null for the sandbox's.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>How long the command may run; null for no limit. When it passes the command is killed and <see cref="CommandTimeoutException"/> is thrown.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>A command running <paramref name="script"/> with <c>/bin/sh -c</c>.</summary>
    public static CommandRequest Shell(string script) =>
        new("/bin/sh") { Arguments = ["-c", script ?? throw new ArgumentNullException(nameof(script))] };

    /// <summary>The SDK command.</summary>
    public ExecCommand ToExecCommand() => new(Program)
    {
        Arguments = Arguments,
        Environment = Environment,
        WorkingDirectory = string.IsNullOrEmpty(WorkingDirectory) ? null : WorkingDirectory,
    };

    /// <summary>The command as one line for logs (arguments with spaces quoted).</summary>
    public override string ToString() =>
        string.Join(' ', new[] { Program }.Concat(Arguments).Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) ? $"\"{a}\"" : a));
}
