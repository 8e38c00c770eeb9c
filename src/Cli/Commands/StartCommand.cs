using System.CommandLine;

namespace Microsandbox.Cli.Commands;

/// <summary>
/// <c>microsandbox start NAME…</c>: boots stopped, kept sandboxes again (their main process too, when they were
/// created with one) and leaves them running; prints each name once it runs.
/// </summary>
public static class StartCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var names = new Argument<string[]>("name") { Arity = ArgumentArity.OneOrMore, Description = "Sandbox names." };
        var start = new Command("start", "Start stopped sandboxes again.") { names };
        start.SetAction((parse, ct) => EachName.RunAsync(parse, parse.GetValue(names)!, async name =>
        {
            var sandbox = await Sandboxes.StartAsync(name, cancellationToken: ct);
            await sandbox.DetachAsync();
        }));
        return start;
    }
}
