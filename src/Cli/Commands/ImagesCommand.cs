using System.CommandLine;
using System.Text.Json;
using Microsandbox.Host;
using Microsandbox.Images;

namespace Microsandbox.Cli.Commands;

/// <summary><c>microsandbox images [--format table|json]</c>: the images in the local cache.</summary>
public static class ImagesCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var format = new Option<string>("--format") { DefaultValueFactory = _ => "table", Description = "table or json." };
        format.AcceptOnlyFromAmong("table", "json");
        var images = new Command("images", "List cached OCI images.") { format };
        images.SetAction(async (parse, ct) =>
        {
            var cache = new ImageCache(MicrosandboxHome.Default.Root);
            var rows = cache.ListImages();
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(format) == "json")
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(rows.Select(i => new
                {
                    references = i.References,
                    manifest_digest = i.ManifestDigest,
                    layers = i.Layers.Count,
                    size = i.Size,
                    pulled_at = i.PulledAt,
                    complete = cache.IsComplete(i),
                })));
                return 0;
            }
            await output.WriteLineAsync($"{"REFERENCE",-48} {"DIGEST",-19} {"LAYERS",6} {"SIZE",10} PULLED");
            foreach (var i in rows)
            {
                var digest = i.ManifestDigest[..Math.Min(19, i.ManifestDigest.Length)];
                foreach (var r in i.References.DefaultIfEmpty("<none>"))
                    await output.WriteLineAsync($"{r,-48} {digest,-19} {i.Layers.Count,6} {Size(i.Size),10} {i.PulledAt:yyyy-MM-dd HH:mm:ss}");
            }
            return 0;
        });
        return images;
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1 << 30 => $"{bytes / (double)(1 << 30):0.0} GiB",
        >= 1 << 20 => $"{bytes / (double)(1 << 20):0.0} MiB",
        >= 1 << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
