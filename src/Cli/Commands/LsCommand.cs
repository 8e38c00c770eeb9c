using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Microsandbox.Cli.Commands;

/// <summary><c>microsandbox ls [--format table|json]</c>: the sandboxes in the state database (shared with <c>msb</c>).</summary>
public static class LsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var format = new Option<string>("--format") { DefaultValueFactory = _ => "table", Description = "table or json." };
        format.AcceptOnlyFromAmong("table", "json");
        var ls = new Command("ls", "List sandboxes.") { format };
        ls.SetAction(async (parse, ct) =>
        {
            var sandboxes = await Sandboxes.ListAsync(cancellationToken: ct);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(format) == "json")
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(sandboxes.Select(SandboxJson.Of)));
                return 0;
            }
            await output.WriteLineAsync($"{"NAME",-32} {"STATUS",-10} {"EXIT",-5} {"CREATED",-20} LABELS");
            foreach (var s in sandboxes)
            {
                var labels = string.Join(',', s.Labels.Select(kv => $"{kv.Key}={kv.Value}"));
                var created = s.CreatedAt?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
                var exit = s.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "";
                await output.WriteLineAsync($"{s.Name,-32} {s.Status,-10} {exit,-5} {created,-20} {labels}");
            }
            return 0;
        });
        return ls;
    }
}
