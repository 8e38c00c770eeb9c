using System.CommandLine;
using System.Text.Json;

namespace Microsandbox.Cli.Commands;

/// <summary><c>microsandbox inspect NAME</c>: a sandbox as JSON (status, image, pid, exit code, reason, ports).</summary>
public static class InspectCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The sandbox." };
        var inspect = new Command("inspect", "Show a sandbox as JSON.") { name };
        inspect.SetAction(async (parse, ct) =>
        {
            var info = await Sandboxes.InspectAsync(parse.GetValue(name)!, cancellationToken: ct);
            if (info is null)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"error: no sandbox named '{parse.GetValue(name)}'");
                return 1;
            }
            await parse.InvocationConfiguration.Output.WriteLineAsync(JsonSerializer.Serialize(SandboxJson.Of(info), new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return inspect;
    }
}
