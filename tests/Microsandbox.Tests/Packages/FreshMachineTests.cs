using System.Diagnostics;
using Microsandbox.Tests.MSBuild;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.Packages;

/// <summary>
/// The product as a user outside this repository gets it: every package packed into a local feed, consumers written
/// in temporary directories, HOME pointing at an empty directory (no <c>~/.microsandbox</c>, so the guest kernel,
/// initramfs and agent can only come from the Microsandbox.Guest.linux-x64 package) and a NuGet packages folder of
/// their own. Each consumer boots a real VM and checks the packaged kernel's version in the guest.
/// </summary>
public sealed class FreshMachineTests(PackedFeed feed, ITestOutputHelper output) : IClassFixture<PackedFeed>
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task An_xunit_consumer_passes_and_two_test_processes_share_one_unpack()
    {
        VmEnvironment.RequireVm();
        var project = WriteXunitConsumer();
        var buildHome = feed.NewHome();
        var build = await RunAsync(project, ["build", "Consumer.Tests.csproj", "-nologo", "-v", "q"], feed.FreshEnvironment(buildHome));
        Assert.True(build.ExitCode == 0, build.Output);

        // Two test processes at the same moment on one empty state directory: both unpack-or-wait, both pass.
        var home = feed.NewHome();
        var environment = feed.FreshEnvironment(home);
        environment["EXPECTED_KERNEL"] = feed.KernelVersion;
        var started = Stopwatch.StartNew();
        var runs = await Task.WhenAll(
            RunAsync(project, ["test", "Consumer.Tests.csproj", "--no-build", "-nologo"], environment),
            RunAsync(project, ["test", "Consumer.Tests.csproj", "--no-build", "-nologo"], environment));
        output.WriteLine($"two concurrent `dotnet test` runs on an empty HOME: {started.ElapsedMilliseconds} ms");
        foreach (var run in runs)
        {
            output.WriteLine(run.Output);
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Matches(@"Passed:\s+1\b", run.Output);
            Assert.DoesNotMatch(@"Skipped:\s+[1-9]", run.Output);
        }

        // One unpacked copy, complete, no staging left behind.
        var guest = Path.Combine(home, ".microsandbox", "guest");
        var unpacked = Directory.GetDirectories(guest);
        Assert.Single(unpacked);
        // Named VERSION-HASH after the guest assembly (the one this test run's SDK carries too) and its manifest.
        Assert.Equal(Path.GetFileName(Host.AssetPackage.Guest.Directory(home)), Path.GetFileName(unpacked[0]));
        Assert.Matches(@"^\d+\.\d+\.\d+[^/]*-[0-9a-f]{16}$", Path.GetFileName(unpacked[0]));
        Assert.True(Host.AssetPackage.IsComplete(unpacked[0]));
        Assert.True(File.Exists(Path.Combine(unpacked[0], "vmlinux")));

        // The sandbox process sits in a folder of its own, without a second copy of the guest assets.
        var bin = Path.Combine(project, "bin", "Debug", "net10.0");
        Assert.True(File.Exists(Path.Combine(bin, "microsandbox", "Microsandbox.Cli.dll")));
        Assert.False(File.Exists(Path.Combine(bin, "microsandbox", Host.AssetPackage.Guest.AssemblyName + ".dll")));
        Assert.False(Directory.Exists(Path.Combine(bin, "microsandbox", "publish")));
        Assert.True(File.Exists(Path.Combine(bin, Host.AssetPackage.Guest.AssemblyName + ".dll")));
        Assert.False(File.Exists(Path.Combine(bin, "Microsandbox.Cli.dll")));
    }

    [Fact]
    public async Task A_module_consumer_runs_redis_through_its_fixture_from_a_local_image()
    {
        VmEnvironment.RequireVm();
        var project = NewXunitConsumer("modules");
        File.WriteAllText(Path.Combine(project, "RedisTests.cs"), """
            using Microsandbox.Modules;
            using Microsandbox.Xunit;
            using Microsoft.Extensions.DependencyInjection;
            using Xunit;

            [assembly: MicrosandboxStartup(typeof(Startup))]

            public sealed class Startup : IMicrosandboxStartup
            {
                // The module's image from DI: a local OCI layout, as a user without Docker Hub would give it.
                public void ConfigureServices(IServiceCollection services)
                {
                    services.AddMicrosandbox(o => o.BootTimeout = TimeSpan.FromMinutes(3));
                    services.AddSingleton(new RedisBuilder().WithImage(Environment.GetEnvironmentVariable("REDIS_IMAGE")!));
                }
            }

            public sealed class RedisTests(RedisFixture redis) : IClassFixture<RedisFixture>
            {
                [SandboxFact]
                public async Task Redis_answers_through_the_fixture()
                {
                    Assert.Matches(@"^127\.0\.0\.1:\d+$", redis.GetConnectionString());
                    Assert.Equal("PONG\n", (await redis.Server.ExecCliAsync(["PING"], TestContext.Current.CancellationToken)).Stdout);
                }
            }
            """);
        var environment = feed.FreshEnvironment(feed.NewHome());
        environment["REDIS_IMAGE"] = Services.ServiceImages.Path("redis");
        var run = await RunAsync(project, ["test", "Consumer.Tests.csproj", "-nologo"], environment);
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Matches(@"Passed:\s+1\b", run.Output);
        Assert.DoesNotMatch(@"Skipped:\s+[1-9]", run.Output);
    }

    [Fact]
    public async Task On_ci_without_qemu_the_consumer_fails_naming_the_package_to_install()
    {
        var project = WriteXunitConsumer();
        var environment = feed.FreshEnvironment(feed.NewHome());
        environment["CI"] = "true";
        environment["MSB_QEMU"] = "/nonexistent/qemu-system-x86_64";
        environment["EXPECTED_KERNEL"] = feed.KernelVersion;
        var run = await RunAsync(project, ["test", "Consumer.Tests.csproj", "-nologo"], environment);
        output.WriteLine(run.Output);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Matches(@"Failed:\s+1\b", run.Output);
        Assert.DoesNotMatch(@"Skipped:\s+[1-9]", run.Output);
        Assert.Contains("EngineUnavailableException", run.Output, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y --no-install-recommends qemu-system-x86", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("./build.sh", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_msbuild_consumer_runs_a_command_in_a_vm()
    {
        VmEnvironment.RequireVm();
        var project = feed.NewProjectDirectory("msbuild");
        File.WriteAllText(Path.Combine(project, "Consumer.csproj"), $$"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsandbox.MSBuild" Version="{{feed.Version}}" PrivateAssets="all" />
              </ItemGroup>
              <Target Name="Kernel">
                <MicrosandboxRun Command="uname" Arguments="-r">
                  <Output TaskParameter="StandardOutput" PropertyName="GuestKernel" />
                </MicrosandboxRun>
                <Message Importance="high" Text="guest-kernel=[$(GuestKernel.Trim())]" />
              </Target>
            </Project>
            """);
        var run = await RunAsync(project, ["build", "Consumer.csproj", "-t:Kernel", "-nologo", "-nodeReuse:false"], feed.FreshEnvironment(feed.NewHome()));
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains($"guest-kernel=[{feed.KernelVersion}]", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_cli_tool_installs_and_runs_a_command_in_a_vm()
    {
        VmEnvironment.RequireVm();
        var home = feed.NewHome();
        var tools = Path.Combine(home, "tools");
        var install = await RunAsync(feed.Root,
            ["tool", "install", "Microsandbox.Cli", "--version", feed.Version, "--tool-path", tools, "--configfile", feed.NuGetConfig],
            feed.FreshEnvironment(home));
        Assert.True(install.ExitCode == 0, install.Output);

        var psi = new ProcessStartInfo(Path.Combine(tools, "microsandbox")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "run", "--", "sh", "-c", "echo ok; uname -r" }) psi.ArgumentList.Add(argument);
        foreach (var key in PackedFeed.RemovedVariables) psi.Environment.Remove(key);
        foreach (var (key, value) in feed.FreshEnvironment(home)) psi.Environment[key] = value;
        using var cli = Process.Start(psi)!;
        var stdout = cli.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = cli.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromMinutes(3));
        await cli.WaitForExitAsync(deadline.Token);
        output.WriteLine(await stderr);
        Assert.Equal(0, cli.ExitCode);
        Assert.Equal($"ok\n{feed.KernelVersion}\n", await stdout);

        // The installed tool also serves the Docker API (Kestrel comes with the tool's shared framework).
        var socket = Path.Combine(home, "docker.sock");
        var serve = new ProcessStartInfo(Path.Combine(tools, "microsandbox")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "docker-api", "--socket", socket }) serve.ArgumentList.Add(argument);
        foreach (var key in PackedFeed.RemovedVariables) serve.Environment.Remove(key);
        foreach (var (key, value) in feed.FreshEnvironment(home)) serve.Environment[key] = value;
        using var server = Process.Start(serve)!;
        try
        {
            Assert.Equal("DOCKER_HOST=unix://" + socket, await server.StandardOutput.ReadLineAsync(deadline.Token));
            using var docker = new Docker.DotNet.DockerClientBuilder().WithEndpoint(new Uri("unix://" + socket)).Build();
            var version = await docker.System.GetVersionAsync(deadline.Token);
            Assert.Equal("1.44", version.APIVersion);
            Assert.Empty(await docker.Containers.ListContainersAsync(new Docker.DotNet.Models.ContainersListParameters { All = true }, deadline.Token));
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task With_the_krun_package_msb_is_found_without_npm()
    {
        var project = feed.NewProjectDirectory("krun");
        File.WriteAllText(Path.Combine(project, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <OutputType>Exe</OutputType>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsandbox" Version="{feed.Version}" />
                <PackageReference Include="Microsandbox.Krun.linux-x64" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "Program.cs"), """
            var location = await Microsandbox.Host.MsbLocator.LocateAsync();
            Console.WriteLine($"source=[{location.MsbSource}] version=[{location.Version}] msb=[{location.MsbPath}] libkrunfw=[{location.LibkrunfwPath}] reason=[{location.Reason}]");
            """);
        var home = feed.NewHome();
        var environment = feed.FreshEnvironment(home);
        environment["PATH"] = "/usr/local/bin:/usr/bin:/bin"; // no msb on it, whatever this machine has
        var run = await RunAsync(project, ["run", "--project", "Consumer.csproj"], environment);
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, run.Output);
        var runtime = Path.Combine(home, ".microsandbox", "runtime");
        var unpacked = Assert.Single(Directory.GetDirectories(runtime));
        Assert.Contains("source=[package Microsandbox.Krun.linux-x64]", run.Output, StringComparison.Ordinal);
        Assert.Contains($"version=[{MicrosandboxDefaults.RuntimeVersion}]", run.Output, StringComparison.Ordinal);
        Assert.Contains($"msb=[{Path.Combine(unpacked, "msb")}]", run.Output, StringComparison.Ordinal);
        Assert.Contains($"libkrunfw=[{Path.Combine(unpacked, Host.MsbLocator.LibkrunfwFileName)}]", run.Output, StringComparison.Ordinal);
        Assert.Contains("reason=[]", run.Output, StringComparison.Ordinal);
    }

    private Task<(int ExitCode, string Output)> RunAsync(string directory, string[] arguments, Dictionary<string, string> environment) =>
        Dotnet.RunAsync(directory, arguments, environment, Limit, PackedFeed.RemovedVariables);

    /// <summary>A fresh xUnit v3 test project referencing Microsandbox.Xunit from the feed, as a user would write it.</summary>
    private string NewXunitConsumer(string kind)
    {
        var project = feed.NewProjectDirectory(kind);
        File.WriteAllText(Path.Combine(project, "Consumer.Tests.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <OutputType>Exe</OutputType>
                <IsTestProject>true</IsTestProject>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsandbox.Xunit" Version="{feed.Version}" />
                <PackageReference Include="xunit.v3" Version="3.2.2" />
                <PackageReference Include="xunit.runner.visualstudio" Version="3.1.5" />
                <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.11.0" />
              </ItemGroup>
            </Project>
            """);
        return project;
    }

    // The README's example, as a user would paste it, checking the guest kernel against the package's.
    private string WriteXunitConsumer()
    {
        var project = NewXunitConsumer("xunit");
        File.WriteAllText(Path.Combine(project, "KernelTests.cs"), """
            using Microsandbox;
            using Microsandbox.Xunit;
            using Microsoft.Extensions.DependencyInjection;
            using Xunit;

            [assembly: MicrosandboxStartup(typeof(Startup))]

            public sealed class Startup : IMicrosandboxStartup
            {
                public void ConfigureServices(IServiceCollection services) =>
                    services.AddMicrosandbox(o => o.BootTimeout = TimeSpan.FromMinutes(3));
            }

            public sealed class KernelTests(SandboxFixture<DefaultSandbox> vm) : IClassFixture<SandboxFixture<DefaultSandbox>>
            {
                [SandboxFact]
                public async Task The_guest_runs_the_packaged_kernel()
                {
                    var result = await vm.Sandbox.ExecAsync("uname", ["-r"], TestContext.Current.CancellationToken);
                    Assert.Equal(Environment.GetEnvironmentVariable("EXPECTED_KERNEL") + "\n", result.Stdout);
                }
            }
            """);
        return project;
    }
}
