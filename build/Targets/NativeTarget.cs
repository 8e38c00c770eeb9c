using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Microsandbox.Build.Targets;

/// <summary>
/// Builds the guest side (kernel extraction, initramfs, guest agent) with <c>native/build.sh OUTDIR</c>, only when
/// the sources under native/ changed since the last successful run into that OUTDIR.
/// </summary>
internal sealed class NativeTarget : BuildTarget
{
    private const string StampFileName = ".native-inputs.sha256";

    public override string Name => "Native";

    public override string Description => "build the kernel, initramfs and guest agent with native/build.sh when native/ changed";

    public override IReadOnlyList<string> DependsOn => ["Install"];

    public override async Task RunAsync(BuildContext context, CancellationToken cancellationToken)
    {
        var script = Path.Combine(context.NativeDir, "build.sh");
        if (!File.Exists(script))
        {
            BuildLog.Info("native/build.sh does not exist yet; nothing to build");
            return;
        }

        var outDir = context.NativeOutDir;
        var stamp = Path.Combine(outDir, StampFileName);
        var inputsHash = await HashInputsAsync(context, cancellationToken);
        if (File.Exists(stamp)
            && (await File.ReadAllTextAsync(stamp, cancellationToken)).Trim() == inputsHash
            && MissingOutputs(outDir) is [])
        {
            BuildLog.Info($"{outDir} is up to date with native/ ({inputsHash[..12]})");
            return;
        }

        Directory.CreateDirectory(outDir);
        await context.Runner.RunAsync("bash", [script, outDir], cancellationToken);
        await File.WriteAllTextAsync(stamp, inputsHash + "\n", cancellationToken);
        BuildLog.Info($"native outputs in {outDir}");
    }

    /// <summary>
    /// Files that manifest.json (written by native/build.sh) lists but that are gone, so a half-deleted output
    /// directory is rebuilt even though the sources did not change. A missing manifest counts as missing.
    /// </summary>
    private static List<string> MissingOutputs(string outDir)
    {
        var manifest = Path.Combine(outDir, "manifest.json");
        if (!File.Exists(manifest))
        {
            return ["manifest.json"];
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(manifest));
            if (!document.RootElement.TryGetProperty("files", out var files) || files.ValueKind != JsonValueKind.Object)
            {
                return [];
            }

            return files.EnumerateObject()
                .Select(file => file.Value.ValueKind == JsonValueKind.Object
                    && file.Value.TryGetProperty("path", out var path) ? path.GetString() : null)
                .OfType<string>()
                .Where(path => !File.Exists(Path.Combine(outDir, path)) && !Directory.Exists(Path.Combine(outDir, path)))
                .ToList();
        }
        catch (JsonException)
        {
            return ["manifest.json (unreadable)"];
        }
    }

    /// <summary>SHA-256 over every source file's path and bytes: git's view (tracked plus untracked, not ignored).</summary>
    private static async Task<string> HashInputsAsync(BuildContext context, CancellationToken cancellationToken)
    {
        var files = await ListSourcesAsync(context, cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var relative in files.Order(StringComparer.Ordinal))
        {
            var full = Path.Combine(context.RepoRoot, relative);
            if (!File.Exists(full))
            {
                continue; // deleted but still in git's index
            }

            hash.AppendData(Encoding.UTF8.GetBytes(relative + "\0"));
            hash.AppendData(await File.ReadAllBytesAsync(full, cancellationToken));
            hash.AppendData("\0"u8);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static async Task<IReadOnlyList<string>> ListSourcesAsync(BuildContext context, CancellationToken cancellationToken)
    {
        if (CommandRunner.IsOnPath("git"))
        {
            var (exitCode, output) = await context.Runner.CaptureAsync(
                "git",
                ["ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "native"],
                cancellationToken);
            if (exitCode == 0)
            {
                return output.Split('\0', StringSplitOptions.RemoveEmptyEntries).Distinct().ToList();
            }
        }

        // Not a git checkout (e.g. a source archive): hash everything except obvious build outputs.
        string[] skippedDirectories = ["out", "bin", "obj", ".git"];
        return Directory.EnumerateFiles(context.NativeDir, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(context.RepoRoot, path))
            .Where(path => !path.Split(Path.DirectorySeparatorChar).Any(part => skippedDirectories.Contains(part)))
            .Where(path => Path.GetExtension(path) is not (".o" or ".a" or ".d"))
            .ToList();
    }
}
