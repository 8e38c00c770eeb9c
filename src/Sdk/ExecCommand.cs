namespace Microsandbox;

/// <summary>
/// A command to run in a sandbox: program, arguments (never joined into a shell string), and optional environment,
/// working directory, user, stdin and terminal. Immutable: <c>With…</c> returns a new command.
/// </summary>
/// <param name="Program">The program (resolved on the guest's PATH when not absolute).</param>
public sealed record ExecCommand(string Program)
{
    /// <summary>Arguments, passed as-is.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Extra environment variables on top of the sandbox's.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Working directory (default: the sandbox's workdir).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>User to run as (default: the sandbox's user).</summary>
    public string? User { get; init; }

    /// <summary>Bytes written to stdin, which is then closed (null: stdin closed at once).</summary>
    public ReadOnlyMemory<byte>? Stdin { get; init; }

    /// <summary>Run under a pseudo-terminal.</summary>
    public bool Tty { get; init; }

    /// <summary>Returns a copy with these arguments.</summary>
    public ExecCommand WithArguments(params IEnumerable<string> arguments) => this with { Arguments = arguments.ToArray() };

    /// <summary>Returns a copy with one more environment variable.</summary>
    public ExecCommand WithEnvironment(string key, string value) =>
        this with { Environment = new Dictionary<string, string>(Environment) { [key] = value } };

    /// <summary>Returns a copy running in <paramref name="directory"/>.</summary>
    public ExecCommand WithWorkingDirectory(string directory) => this with { WorkingDirectory = directory };

    /// <summary>Returns a copy running as <paramref name="user"/>.</summary>
    public ExecCommand WithUser(string user) => this with { User = user };

    /// <summary>Returns a copy feeding <paramref name="stdin"/>.</summary>
    public ExecCommand WithStdin(ReadOnlyMemory<byte> stdin) => this with { Stdin = stdin };

    /// <summary>Checks the command; the message names the field.</summary>
    internal void Validate()
    {
        if (string.IsNullOrEmpty(Program)) throw new InvalidConfigException("exec: program must not be empty");
        if (Program.Contains('\0', StringComparison.Ordinal) || Arguments.Any(a => a.Contains('\0', StringComparison.Ordinal)))
            throw new InvalidConfigException("exec: program and arguments must not contain NUL bytes");
        foreach (var key in Environment.Keys)
            if (key.Length == 0 || key.Contains('=', StringComparison.Ordinal))
                throw new InvalidConfigException($"exec: environment variable name '{key}' must be non-empty and contain no '='");
    }

    /// <summary>The agent request for this command, after <see cref="Validate"/>.</summary>
    internal Agent.ExecRequest ToRequest()
    {
        Validate();
        return new Agent.ExecRequest(Program)
        {
            Args = Arguments,
            Env = Environment.Select(kv => kv.Key + "=" + kv.Value).ToArray(),
            Cwd = WorkingDirectory,
            User = User,
            Tty = Tty,
        };
    }
}
