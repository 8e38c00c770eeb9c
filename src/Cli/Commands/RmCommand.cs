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
        rm.SetAction((parse, ct) => EachName.RunAsync(parse, parse.GetValue(names)!,
            name => Sandboxes.RemoveAsync(name, parse.GetValue(force), cancellationToken: ct),
            e => e.Message.Contains("still running", StringComparison.Ordinal) ? " (use --force)" : ""));
        return rm;
    }
}
