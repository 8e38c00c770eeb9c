using System.CommandLine;
using Microsandbox.Cli.Commands;

namespace Microsandbox.Cli;

/// <summary>
/// The root of the <c>microsandbox</c> command line: registers each command and runs one invocation with the given
/// output streams, so tests can run it in-process. Commands live in <c>Commands/</c>, one file each.
/// </summary>
public static class CliApp
{
    /// <summary>Builds the root command with every registered subcommand.</summary>
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("microsandbox: throwaway microVMs for .NET, wire-compatible with upstream microsandbox.");
        root.Add(SpecCommand.Create());
        root.Add(RunCommand.Create());
        root.Add(LsCommand.Create());
        root.Add(RmCommand.Create());
        root.Add(ExecCliCommand.Create());
        root.Add(LogsCommand.Create());
        root.Add(StopCommand.Create());
        root.Add(StartCommand.Create());
        root.Add(InspectCommand.Create());
        root.Add(DoctorCommand.Create());
        root.Add(PullCommand.Create());
        root.Add(ImagesCommand.Create());
        root.Add(DockerApiCommand.Create());
        return root;
    }

    /// <summary>Runs one command line, writing to <paramref name="stdout"/> and <paramref name="stderr"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            var parseResult = CreateRootCommand().Parse(args);
            return parseResult.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                // Our own handler below prints one line instead of a stack trace.
                EnableDefaultExceptionHandler = false,
                // Ctrl+C cancels the command; a service then stops gracefully (stop signal, grace period, guest
                // power-off), which under software emulation takes seconds, not the default two.
                ProcessTerminationTimeout = TimeSpan.FromSeconds(30),
            });
        }
#pragma warning disable CA1031 // The tool promises never to end with a stack trace.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            stderr.WriteLine($"error: {ex.Message}");
            return ex is MicrosandboxException ? ExitCodes.InvalidInput : ExitCodes.Failure;
        }
        finally
        {
            stdout.Flush();
            stderr.Flush();
        }
    }
}
