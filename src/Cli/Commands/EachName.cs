using System.CommandLine;

namespace Microsandbox.Cli.Commands;

/// <summary>
/// The shape of <c>start</c>, <c>stop</c> and <c>rm</c>: the action for each name in turn, the name printed when it
/// succeeds, <c>error: …</c> when it does not, exit code 1 when any failed.
/// </summary>
internal static class EachName
{
    public static async Task<int> RunAsync(ParseResult parse, IEnumerable<string> names, Func<string, Task> action, Func<MicrosandboxException, string>? hint = null)
    {
        int failures = 0;
        foreach (var name in names)
        {
            try
            {
                await action(name);
                await parse.InvocationConfiguration.Output.WriteLineAsync(name);
            }
            catch (MicrosandboxException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"error: {e.Message}{hint?.Invoke(e)}");
                failures++;
            }
        }
        return failures == 0 ? 0 : 1;
    }
}
