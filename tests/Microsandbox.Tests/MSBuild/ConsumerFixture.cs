using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Microsandbox.Tests.MSBuild;

/// <summary>
/// Packs Microsandbox.MSBuild (already built by this test project's build, same configuration) into a local feed
/// with a unique version, and writes a consumer project that only adds a PackageReference to it. Each test then runs
/// a real <c>dotnet build</c> of one of the consumer's targets.
/// </summary>
public sealed class ConsumerFixture : IDisposable
{
    public ConsumerFixture()
    {
        Root = Directory.CreateTempSubdirectory("msbc-").FullName;
        Feed = Directory.CreateDirectory(Path.Combine(Root, "feed")).FullName;
        ProjectDirectory = Directory.CreateDirectory(Path.Combine(Root, "consumer")).FullName;
        PackagesDirectory = Path.Combine(Root, "nuget-packages");
        Version = "0.1.0-e2e" + Guid.NewGuid().ToString("N")[..10];

        var repo = RepositoryRoot.Find();
        var configuration = typeof(ConsumerFixture).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var project = Path.Combine(repo, "src", "MSBuild.Tasks", "Microsandbox.MSBuild.csproj");
        var pack = Dotnet.Run(Root, ["pack", project, "-c", configuration, "--no-build", "-nologo", "-o", Feed, $"-p:Version={Version}"], extraEnv: null, TimeSpan.FromMinutes(5));
        if (pack.ExitCode != 0) throw new InvalidOperationException($"dotnet pack failed ({pack.ExitCode}):\n{pack.Output}");
        PackagePath = Path.Combine(Feed, $"Microsandbox.MSBuild.{Version}.nupkg");
        if (!File.Exists(PackagePath)) throw new InvalidOperationException($"dotnet pack did not write {PackagePath}:\n{pack.Output}");

        File.WriteAllText(Path.Combine(ProjectDirectory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(ProjectFile, ConsumerProject.Text(Version));
    }

    public string Root { get; }

    public string Feed { get; }

    public string PackagePath { get; }

    public string ProjectDirectory { get; }

    public string ProjectFile => Path.Combine(ProjectDirectory, "Consumer.csproj");

    public string PackagesDirectory { get; }

    public string Version { get; }

    private readonly List<string> _homes = [];

    /// <summary>A fresh state directory for one build (short: socket paths live under it), deleted with the fixture.</summary>
    public string NewHome()
    {
        var home = Directory.CreateTempSubdirectory("msbm-").FullName;
        lock (_homes) _homes.Add(home);
        return home;
    }

    /// <summary>Starts <c>dotnet build Consumer.csproj -t:TARGET</c> with its own state directory <paramref name="home"/>.</summary>
    public Process StartBuild(string target, string home, IEnumerable<string>? properties, DataReceivedEventHandler onLine, IEnumerable<string>? switches = null)
    {
        var psi = Dotnet.StartInfo(ProjectDirectory,
            ["build", ProjectFile, "-t:" + target, "-nologo", "-nodeReuse:false", .. (properties ?? []).Select(p => "-p:" + p), .. switches ?? []],
            new Dictionary<string, string>
            {
                ["MSB_HOME"] = home,
                ["NUGET_PACKAGES"] = PackagesDirectory,
                ["MSBUILDDISABLENODEREUSE"] = "1",
            });
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += onLine;
        process.ErrorDataReceived += onLine;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public void Dispose()
    {
        foreach (var dir in _homes.Append(Root))
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

/// <summary>Runs the dotnet CLI as a child with a clean MSBuild environment.</summary>
internal static class Dotnet
{
    public static ProcessStartInfo StartInfo(string workdir, IEnumerable<string> args, IReadOnlyDictionary<string, string>? extraEnv, IEnumerable<string>? removedEnv = null)
    {
        var psi = new ProcessStartInfo(Runtime.SandboxProcessLocator.DotnetHost())
        {
            WorkingDirectory = workdir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The test host runs under `dotnet test`, whose MSBuild variables would steer the child's build.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "MSB_SANDBOX_PROCESS").ToList())
            psi.Environment.Remove(key);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var key in removedEnv ?? []) psi.Environment.Remove(key);
        foreach (var (k, v) in extraEnv ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return psi;
    }

    public static (int ExitCode, string Output) Run(string workdir, IEnumerable<string> args, IReadOnlyDictionary<string, string>? extraEnv, TimeSpan limit, IEnumerable<string>? removedEnv = null) =>
        RunAsync(workdir, args, extraEnv, limit, removedEnv).GetAwaiter().GetResult();

    /// <summary>Runs the dotnet CLI to completion (killed after <paramref name="limit"/>), stdout and stderr together.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string workdir, IEnumerable<string> args, IReadOnlyDictionary<string, string>? extraEnv, TimeSpan limit, IEnumerable<string>? removedEnv = null)
    {
        var output = new StringBuilder();
        using var process = new Process { StartInfo = StartInfo(workdir, args, extraEnv, removedEnv) };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish within {limit}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }
}
