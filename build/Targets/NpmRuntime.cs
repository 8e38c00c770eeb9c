using System.Runtime.InteropServices;
using System.Text.Json;

namespace Microsandbox.Build.Targets;

/// <summary>
/// Installs the pinned upstream runtime (<c>msb</c> + <c>libkrunfw</c>), which ships in npm packages, into the
/// state directory's <c>npm</c> folder. The version comes from <see cref="MicrosandboxDefaults.RuntimeVersion"/>.
/// </summary>
internal static class NpmRuntime
{
    private const string MainPackage = "microsandbox";
    private const string PlatformScope = "@superradcompany/microsandbox-";

    public static string InstallPrefix => Path.Combine(BuildContext.StateHome, "npm");

    public static async Task EnsureAsync(BuildContext context, CancellationToken cancellationToken)
    {
        var version = MicrosandboxDefaults.RuntimeVersion;
        var packages = new List<string> { MainPackage };
        var platformPackage = PlatformPackageName();
        if (platformPackage is null)
        {
            BuildLog.Warn($"no prebuilt microsandbox runtime for {RuntimeInformation.RuntimeIdentifier}; installing only '{MainPackage}'");
        }
        else
        {
            // npm does not always pick the optional platform package by itself, so it is named explicitly.
            packages.Add(platformPackage);
        }

        var stale = packages.Where(package => InstalledVersion(package) != version).ToList();
        if (stale.Count == 0)
        {
            BuildLog.Info($"microsandbox runtime {version} already installed in {InstallPrefix}");
        }
        else
        {
            if (!CommandRunner.IsOnPath("npm"))
            {
                throw new BuildFailedException("npm is not installed; it is needed to install the microsandbox runtime");
            }

            Directory.CreateDirectory(InstallPrefix);
            await context.Runner.RunAsync(
                "npm",
                ["install", "--prefix", InstallPrefix, "--save-exact", "--no-audit", "--no-fund",
                 .. packages.Select(package => $"{package}@{version}")],
                cancellationToken,
                new Dictionary<string, string?> { ["npm_config_update_notifier"] = "false" });

            var broken = packages.Where(package => InstalledVersion(package) != version).ToList();
            if (broken.Count > 0)
            {
                throw new BuildFailedException($"npm finished but {string.Join(", ", broken)} is not at version {version}");
            }
        }

        if (platformPackage is not null)
        {
            var msb = Path.Combine(PackageDirectory(platformPackage), "bin", "msb");
            BuildLog.Info(File.Exists(msb) ? $"msb: {msb}" : $"warning: {platformPackage} has no bin/msb");
            KrunArchive.Write(PackageDirectory(platformPackage), Path.Combine(context.NativeOutDir, "krun"), version);
        }
    }

    private static string? PlatformPackageName()
    {
        if (!OperatingSystem.IsLinux())
        {
            return OperatingSystem.IsMacOS() && RuntimeInformation.OSArchitecture == Architecture.Arm64
                ? PlatformScope + "darwin-arm64"
                : null;
        }

        return RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => PlatformScope + "linux-x64-gnu",
            Architecture.Arm64 => PlatformScope + "linux-arm64-gnu",
            _ => null,
        };
    }

    private static string PackageDirectory(string package) =>
        Path.Combine([InstallPrefix, "node_modules", .. package.Split('/')]);

    private static string? InstalledVersion(string package)
    {
        var manifest = Path.Combine(PackageDirectory(package), "package.json");
        if (!File.Exists(manifest))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(manifest));
            return document.RootElement.TryGetProperty("version", out var value) ? value.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
