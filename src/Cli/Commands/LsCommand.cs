using System.CommandLine;
using System.Text.Json;
using Microsandbox.Host;
using Microsandbox.State;

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
            await using var store = await StateStore.OpenAsync(MicrosandboxHome.Default.Root, ct);
            await store.SweepStaleAsync(ct);
            var rows = await store.ListSandboxesAsync(cancellationToken: ct);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(format) == "json")
            {
                var items = rows.Select(r => new
                {
                    name = r.Name,
                    status = r.Status.ToString(),
                    ephemeral = r.Ephemeral,
                    labels = r.Labels,
                    created_at = r.CreatedAt,
                    updated_at = r.UpdatedAt,
                });
                await output.WriteLineAsync(JsonSerializer.Serialize(items));
                return 0;
            }
            await output.WriteLineAsync($"{"NAME",-32} {"STATUS",-10} {"CREATED",-20} LABELS");
            foreach (var r in rows)
            {
                var labels = string.Join(',', r.Labels.Select(kv => $"{kv.Key}={kv.Value}"));
                await output.WriteLineAsync($"{r.Name,-32} {r.Status,-10} {r.CreatedAt?.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),-20} {labels}");
            }
            return 0;
        });
        return ls;
    }
}
