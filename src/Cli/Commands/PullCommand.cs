using System.CommandLine;
using System.Text.Json;
using Microsandbox.Config;
using Microsandbox.Host;
using Microsandbox.Images;
using Microsandbox.Spec;

namespace Microsandbox.Cli.Commands;

/// <summary><c>microsandbox pull REF [--policy P] [--insecure] [--username U] [--format text|json]</c>: pull an image into the cache.</summary>
public static class PullCommand
{
    /// <summary>Environment variable the registry password is read from (never from the command line).</summary>
    public const string PasswordVariable = "MSB_REGISTRY_PASSWORD";

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var reference = new Argument<string>("reference") { Description = "Image reference (host/repository[:tag][@digest])." };
        var policy = new Option<PullPolicy>("--policy") { DefaultValueFactory = _ => PullPolicy.Always, Description = "Always (default), IfMissing or Never." };
        var insecure = new Option<bool>("--insecure") { Description = "Use plain HTTP." };
        var username = new Option<string?>("--username", "-u") { Description = $"Registry user; the password comes from ${PasswordVariable}." };
        var format = new Option<string>("--format") { DefaultValueFactory = _ => "text", Description = "text or json." };
        format.AcceptOnlyFromAmong("text", "json");
        var pull = new Command("pull", "Pull an OCI image into the local cache.") { reference, policy, insecure, username, format };
        pull.SetAction(async (parse, ct) =>
        {
            var user = parse.GetValue(username);
            RegistryAuth? auth = user is null ? null : RegistryAuth.Basic(user, Environment.GetEnvironmentVariable(PasswordVariable) ?? "");
            var cache = new ImageCache(MicrosandboxHome.Default.Root);
            var result = await new ImagePuller(cache).PullAsync(parse.GetValue(reference)!, new PullOptions
            {
                Policy = parse.GetValue(policy),
                Insecure = parse.GetValue(insecure),
                Auth = auth,
            }, ct);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(format) == "json")
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["reference"] = result.Reference.ToString(),
                    ["manifest_digest"] = result.Image.ManifestDigest,
                    ["layers"] = result.Image.Layers.Count,
                    ["layers_downloaded"] = result.LayersDownloaded,
                    ["bytes_downloaded"] = result.BytesDownloaded,
                    ["from_cache"] = result.FromCache,
                }));
            }
            else
            {
                await output.WriteLineAsync($"{result.Reference} {result.Image.ManifestDigest} ({result.Image.Layers.Count} layers, {result.LayersDownloaded} downloaded{(result.FromCache ? ", from cache" : "")})");
            }
            return 0;
        });
        return pull;
    }
}
