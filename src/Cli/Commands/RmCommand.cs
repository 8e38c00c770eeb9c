using System.CommandLine;
using Microsandbox.Host;
using Microsandbox.Runtime;
using Microsandbox.State;

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
            var home = MicrosandboxHome.Default;
            int failures = 0;
            foreach (var name in parse.GetValue(names)!)
            {
                await using (var store = await StateStore.OpenAsync(home.Root, ct))
                {
                    if (await store.GetSandboxAsync(name, ct) is null)
                    {
                        await parse.InvocationConfiguration.Error.WriteLineAsync($"error: no sandbox named '{name}'");
                        failures++;
                        continue;
                    }
                    if (parse.GetValue(force)) await SandboxLauncher.StopByNameAsync(store, home, name, ct);
                }
                try
                {
                    await SandboxLauncher.RemoveStoppedAsync(home, name, ct);
                    await parse.InvocationConfiguration.Output.WriteLineAsync(name);
                }
                catch (MicrosandboxException e)
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync($"error: {e.Message} (use --force)");
                    failures++;
                }
            }
            return failures == 0 ? 0 : 1;
        });
        return rm;
    }
}
