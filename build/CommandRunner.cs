using System.Text;
using CliWrap;
using CliWrap.Buffered;

namespace Microsandbox.Build;

/// <summary>
/// Runs child processes from argv arrays (never a shell string), streaming their output live and turning a
/// non-zero exit into a <see cref="BuildFailedException"/> that carries the child's exit code.
/// </summary>
internal sealed class CommandRunner(string workingDirectory)
{
    // After Ctrl+C the child gets SIGINT first; if it is still alive this long afterwards it is killed.
    private static readonly TimeSpan ForcefulKillDelay = TimeSpan.FromSeconds(10);

    private static readonly Stream StandardOutput = Console.OpenStandardOutput();
    private static readonly Stream StandardError = Console.OpenStandardError();

    /// <summary>Runs a command, echoing it first; throws when it exits non-zero.</summary>
    public async Task RunAsync(
        string program,
        IReadOnlyList<string> arguments,
        CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var exitCode = await RunUncheckedAsync(program, arguments, cancellationToken, environment);
        if (exitCode != 0)
        {
            throw new BuildFailedException($"'{Display(program, arguments)}' exited with code {exitCode}", exitCode);
        }
    }

    /// <summary>Runs a command, echoing it first, and returns its exit code whatever it is.</summary>
    public async Task<int> RunUncheckedAsync(
        string program,
        IReadOnlyList<string> arguments,
        CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        BuildLog.Command(Display(program, arguments));
        // Qualified: the referenced CLI project's Microsandbox.Cli namespace would shadow CliWrap's Cli class here.
        var command = CliWrap.Cli.Wrap(program)
            .WithArguments(arguments)
            .WithWorkingDirectory(workingDirectory)
            .WithEnvironmentVariables(environment ?? new Dictionary<string, string?>())
            .WithStandardOutputPipe(PipeTarget.ToStream(StandardOutput))
            .WithStandardErrorPipe(PipeTarget.ToStream(StandardError))
            .WithValidation(CommandResultValidation.None);

        using var forceful = new CancellationTokenSource();
        await using var escalate = cancellationToken.Register(() => forceful.CancelAfter(ForcefulKillDelay));
        try
        {
            var execution = command.ExecuteAsync(forceful.Token, cancellationToken);

            // Registered after CliWrap's own handler, so it runs first (LIFO) and sees the tree before the child exits.
            await using var interruptTree = cancellationToken.Register(
                () => ProcessTree.InterruptDescendants(execution.ProcessId));
            var result = await execution;
            return result.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new BuildFailedException($"cannot start '{program}': {ex.Message}", 127);
        }
    }

    /// <summary>Runs a command quietly and returns its exit code and standard output (for queries, not work).</summary>
    public async Task<(int ExitCode, string Output)> CaptureAsync(
        string program,
        IReadOnlyList<string> arguments,
        CancellationToken cancellationToken)
    {
        var result = await CliWrap.Cli.Wrap(program)
            .WithArguments(arguments)
            .WithWorkingDirectory(workingDirectory)
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(Encoding.UTF8, cancellationToken);
        return (result.ExitCode, result.StandardOutput);
    }

    /// <summary>True when an executable of that name is found on <c>PATH</c>.</summary>
    public static bool IsOnPath(string program) => FindOnPath(program) is not null;

    /// <summary>The full path of an executable found on <c>PATH</c>, or null.</summary>
    public static string? FindOnPath(string program)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, program);
            if (File.Exists(candidate)
                && (OperatingSystem.IsWindows()
                    || (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>A copy-pasteable rendering of an argv array, for echoing what runs.</summary>
    public static string Display(string program, IEnumerable<string> arguments) =>
        string.Join(' ', new[] { program }.Concat(arguments).Select(Quote));

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:@,+%".Contains(c))
            ? argument
            : "'" + argument.Replace("'", "'\\''") + "'";
}
