using System.CommandLine;

namespace Microsandbox.Cli.Commands;

/// <summary><c>microsandbox exec NAME -- CMD ARGS…</c>: runs a command in a running sandbox; exits with its code.</summary>
public static class ExecCliCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The sandbox." };
        var command = new Argument<string[]>("command") { Arity = ArgumentArity.OneOrMore, Description = "The command and its arguments (after --)." };
        var env = new Option<string[]>("--env", "-e") { Description = "Environment variable K=V." };
        var workdir = new Option<string?>("--workdir", "-w") { Description = "Working directory in the guest." };
        var user = new Option<string?>("--user", "-u") { Description = "Guest user (name, uid or uid:gid)." };
        var exec = new Command("exec", "Run a command in a running sandbox.") { name, command, env, workdir, user };
        exec.SetAction(async (parse, ct) =>
        {
            var argv = parse.GetValue(command)!;
            var run = new Microsandbox.ExecCommand(argv[0]) { Arguments = argv[1..], WorkingDirectory = parse.GetValue(workdir), User = parse.GetValue(user) };
            foreach (var e in parse.GetValue(env) ?? [])
            {
                int eq = e.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0) throw new InvalidConfigException($"--env '{e}': expected K=V");
                run = run.WithEnvironment(e[..eq], e[(eq + 1)..]);
            }
            return await Sandboxes.ExecAsync(parse.GetValue(name)!, run, Console.OpenStandardOutput(), Console.OpenStandardError(), cancellationToken: ct);
        });
        return exec;
    }
}
