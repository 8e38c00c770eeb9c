using System.Reflection;
using System.Text.Json;
using Microsandbox.Tests.MSBuild;

namespace Microsandbox.Tests.Packages;

/// <summary>
/// Every package of the product, packed (from this build, same configuration) into a local feed under a version of
/// its own, plus a NuGet configuration that knows only that feed and the packages already on this machine — a fresh
/// machine's view: nothing of this repository is reachable but through the packages.
/// </summary>
public sealed class PackedFeed : IDisposable
{
    private static readonly string[] Projects =
    [
        "src/Guest/Microsandbox.Guest.linux-x64.csproj",
        "src/Krun/Microsandbox.Krun.linux-x64.csproj",
        "src/Sdk/Microsandbox.csproj",
        "src/Modules/Microsandbox.Modules.csproj",
        "src/Xunit/Microsandbox.Xunit.csproj",
        "src/Xunit.V2/Microsandbox.Xunit.V2.csproj",
        "src/MSBuild.Tasks/Microsandbox.MSBuild.csproj",
        "src/DockerApi/Microsandbox.DockerApi.csproj",
        "src/Cli/Microsandbox.Cli.csproj",
    ];

    private readonly List<string> _temporary = [];

    public PackedFeed()
    {
        Root = Directory.CreateTempSubdirectory("msbpk-").FullName;
        Feed = Directory.CreateDirectory(Path.Combine(Root, "feed")).FullName;
        Packages = Directory.CreateDirectory(Path.Combine(Root, "nuget-packages")).FullName;
        Version = "0.1.0-fresh" + Guid.NewGuid().ToString("N")[..10];
        var repo = RepositoryRoot.Find();
        var configuration = typeof(PackedFeed).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        foreach (var project in Projects)
        {
            var pack = Dotnet.Run(Root, ["pack", Path.Combine(repo, project), "-c", configuration, "--no-build", "-nologo", "-o", Feed, $"-p:Version={Version}"], null, TimeSpan.FromMinutes(5));
            if (pack.ExitCode != 0) throw new InvalidOperationException($"dotnet pack {project} failed ({pack.ExitCode}):\n{pack.Output}");
        }

        // The machine's own package folder serves xUnit, SQLite and the rest, as a registry would.
        var machinePackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        NuGetConfig = Path.Combine(Root, "nuget.config");
        File.WriteAllText(NuGetConfig, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="product" value="{Feed}" />
                <add key="machine" value="{machinePackages}" />
              </packageSources>
            </configuration>
            """);

        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(NativeOutputs.Directory, "manifest.json")));
        KernelVersion = manifest.RootElement.GetProperty("kernel_version").GetString()!;
    }

    public string Root { get; }

    public string Feed { get; }

    /// <summary>The NuGet packages folder every consumer restores into (never the user's).</summary>
    public string Packages { get; }

    public string Version { get; }

    /// <summary>A nuget.config with only the feed and this machine's packages.</summary>
    public string NuGetConfig { get; }

    /// <summary>The guest kernel the package carries (<c>uname -r</c> in a guest).</summary>
    public string KernelVersion { get; }

    /// <summary>The size of one package in the feed.</summary>
    public long PackageSize(string id) => new FileInfo(Path.Combine(Feed, $"{id}.{Version}.nupkg")).Length;

    /// <summary>A new directory for a consumer project, with the feed's nuget.config in it.</summary>
    public string NewProjectDirectory(string prefix)
    {
        var project = Directory.CreateDirectory(Path.Combine(Root, prefix + "-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        File.Copy(NuGetConfig, Path.Combine(project, "nuget.config"));
        return project;
    }

    /// <summary>A new empty directory to serve as a user's HOME: no ~/.microsandbox, no ~/.nuget, no ~/.dotnet.</summary>
    public string NewHome()
    {
        var home = Directory.CreateTempSubdirectory("msbhome-").FullName;
        lock (_temporary) _temporary.Add(home);
        return home;
    }

    /// <summary>
    /// The environment of a process on a fresh machine: HOME empty, the packages folder of the feed's consumers, and
    /// none of this repository's or this test run's variables.
    /// </summary>
    public Dictionary<string, string> FreshEnvironment(string home) => new()
    {
        ["HOME"] = home,
        ["NUGET_PACKAGES"] = Packages,
        ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        ["DOTNET_ROOT"] = Path.GetDirectoryName(Runtime.SandboxProcessLocator.DotnetHost())!,
        ["MSBUILDDISABLENODEREUSE"] = "1",
    };

    /// <summary>Variables a developer or CI may have set that a fresh machine has not.</summary>
    public static readonly string[] RemovedVariables =
        ["MSB_HOME", "MSB_QEMU_ASSETS", "MSB_NATIVE_OUT", "MSB_QEMU", "MSB_PATH", "MSB_REQUIRE_ENGINE", "CI", "MSB_SNAPSHOTS"];

    public void Dispose()
    {
        foreach (var dir in _temporary.Append(Root))
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: a temp directory left behind is harmless.
            }
        }
    }
}
