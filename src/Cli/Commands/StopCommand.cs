using System.CommandLine;

namespace Microsandbox.Cli.Commands;

/// <summary><c>microsandbox stop NAME…</c>: stops running sandboxes (main process: stop signal, grace, then the VM).</summary>
public static class StopCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var names = new Argument<string[]>("name") { Arity = ArgumentArity.OneOrMore, Description = "Sandbox names." };
        var stop = new Command("stop", "Stop running sandboxes.") { names };
        stop.SetAction((parse, ct) => EachName.RunAsync(parse, parse.GetValue(names)!, name => Sandboxes.StopAsync(name, cancellationToken: ct)));
        return stop;
    }
}
