using System.Reflection;
using Microsandbox.Tests.MSBuild;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.Xunit;

/// <summary>
/// A test project that knows this repository only through its packages: Microsandbox.Xunit (and the Microsandbox SDK
/// it depends on) packed into a local feed, referenced by version, restored, built and run with <c>dotnet test</c>.
/// Its one test boots a real VM, so the package must have brought the sandbox process along.
/// </summary>
public sealed class XunitPackageConsumerTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("msbxp-");

    public void Dispose()
    {
        try { _root.Delete(recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void A_test_project_referencing_only_the_package_boots_a_sandbox()
    {
        VmEnvironment.RequireVm();
        var repo = RepositoryRoot.Find();
        var configuration = typeof(XunitPackageConsumerTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var version = "0.1.0-e2e" + Guid.NewGuid().ToString("N")[..10];
        var feed = Directory.CreateDirectory(Path.Combine(_root.FullName, "feed")).FullName;
        foreach (var project in new[] { "src/Sdk/Microsandbox.csproj", "src/Xunit/Microsandbox.Xunit.csproj" })
        {
            var pack = Dotnet.Run(_root.FullName, ["pack", Path.Combine(repo, project), "-c", configuration, "--no-build", "-nologo", "-o", feed, $"-p:Version={version}"], null, TimeSpan.FromMinutes(5));
            Assert.True(pack.ExitCode == 0, pack.Output);
        }

        var consumer = Directory.CreateDirectory(Path.Combine(_root.FullName, "consumer")).FullName;
        // The packages already on this machine serve xUnit and the rest; the feed serves ours. Restores go to a
        // packages folder of the test's own, so the e2e version never lands in the user's cache.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="e2e-feed" value="{feed}" />
                <add key="e2e-cache" value="{cache}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(consumer, "Consumer.Tests.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <OutputType>Exe</OutputType>
                <IsTestProject>true</IsTestProject>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsandbox.Xunit" Version="{version}" />
                <PackageReference Include="xunit.v3" Version="3.2.2" />
                <PackageReference Include="xunit.runner.visualstudio" Version="3.1.5" />
                <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.11.0" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "PackageTests.cs"), """
            using Microsandbox;
            using Microsandbox.Xunit;
            using Microsoft.Extensions.DependencyInjection;
            using Xunit;

            [assembly: MicrosandboxStartup(typeof(Startup))]

            public sealed class Startup : IMicrosandboxStartup
            {
                public void ConfigureServices(IServiceCollection services) =>
                    services.AddMicrosandbox(o => o.HomeDirectory = Environment.GetEnvironmentVariable("MSB_HOME")!);
            }

            public sealed class PackageTests(SandboxFixture<DefaultSandbox> fixture) : IClassFixture<SandboxFixture<DefaultSandbox>>
            {
                [SandboxFact]
                public async Task Runs_a_command_in_a_sandbox()
                {
                    var result = await fixture.Sandbox.ExecAsync("echo", ["from", "the", "package"], TestContext.Current.CancellationToken);
                    Assert.Equal("from the package\n", result.Stdout);
                }
            }
            """);

        var home = Directory.CreateDirectory(Path.Combine(_root.FullName, "home")).FullName;
        var env = new Dictionary<string, string> { ["MSB_HOME"] = home, ["NUGET_PACKAGES"] = Path.Combine(_root.FullName, "packages") };
        var test = Dotnet.Run(consumer, ["test", "Consumer.Tests.csproj", "-nologo", "-v", "q"], env, TimeSpan.FromMinutes(8));
        output.WriteLine(test.Output);
        Assert.True(test.ExitCode == 0, test.Output);
        Assert.Contains("Passed:     1", test.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Skipped:     1", test.Output, StringComparison.Ordinal);

        // The sandbox process sits in a folder of its own, not among the test project's assemblies.
        var bin = Path.Combine(consumer, "bin", "Debug", "net10.0");
        Assert.True(File.Exists(Path.Combine(bin, "microsandbox", "Microsandbox.Cli.dll")));
        Assert.True(File.Exists(Path.Combine(bin, "microsandbox", "Microsandbox.Cli.runtimeconfig.json")));
        Assert.False(File.Exists(Path.Combine(bin, "Microsandbox.Cli.dll")));
    }
}
