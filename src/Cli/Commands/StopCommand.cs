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
        stop.SetAction(async (parse, ct) =>
        {
            int failures = 0;
            foreach (var name in parse.GetValue(names)!)
            {
                try
                {
                    await Sandboxes.StopAsync(name, cancellationToken: ct);
                    await parse.InvocationConfiguration.Output.WriteLineAsync(name);
                }
                catch (MicrosandboxException e)
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync($"error: {e.Message}");
                    failures++;
                }
            }
            return failures == 0 ? 0 : 1;
        });
        return stop;
    }
}
