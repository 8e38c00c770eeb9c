using System.CommandLine;

namespace Microsandbox.Cli.Commands;

/// <summary><c>microsandbox rm NAME… [--force]</c>: remove sandboxes (stopping running ones with <c>--force</c>).</summary>
public static class RmCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var names = new Argument<string[]>("name") { Arity = ArgumentArity.OneOrMore, Description = "Sandbox names." };
        var force = new Option<bool>("--force", "-f") { Description = "Stop running sandboxes first." };
        var rm = new Command("rm", "Remove sandboxes.") { names, force };
        rm.SetAction(async (parse, ct) =>
        {
            int failures = 0;
            foreach (var name in parse.GetValue(names)!)
            {
                try
                {
                    await Sandboxes.RemoveAsync(name, parse.GetValue(force), cancellationToken: ct);
                    await parse.InvocationConfiguration.Output.WriteLineAsync(name);
                }
                catch (MicrosandboxException e)
                {
                    var hint = e.Message.Contains("still running", StringComparison.Ordinal) ? " (use --force)" : "";
                    await parse.InvocationConfiguration.Error.WriteLineAsync($"error: {e.Message}{hint}");
                    failures++;
                }
            }
            return failures == 0 ? 0 : 1;
        });
        return rm;
    }
}
