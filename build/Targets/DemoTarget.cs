using Microsandbox.Orchestration;

namespace Microsandbox.Build.Targets;

/// <summary>
/// The main job: runs the freshly built <c>microsandbox</c> CLI through <see cref="DemoScript.Commands"/>, then boots
/// a microVM through the SDK's build-tool-neutral orchestration API (the same one the MSBuild tasks use) and runs
/// <see cref="DemoScript.GuestScript"/> in it, streaming the guest's output here. The VM is always torn down.
/// </summary>
internal sealed class DemoTarget : BuildTarget
{
    public override string Name => "Demo";

    public override string Description => "run the microsandbox CLI on the sample, then boot a microVM and run a command in it";

    public override IReadOnlyList<string> DependsOn => ["Install", "Native", "Compile"];

    public override async Task RunAsync(BuildContext context, CancellationToken cancellationToken)
    {
        // Relative to the repository root, where commands run, so the echoed command line stays short.
        var cli = Path.Combine("src", "Cli", "bin", context.Options.Configuration, "net10.0", "Microsandbox.Cli.dll");
        if (!File.Exists(Path.Combine(context.RepoRoot, cli)))
        {
            throw new BuildFailedException($"the CLI was not built: {cli} is missing");
        }

        foreach (var command in DemoScript.Commands)
        {
            await context.Runner.RunAsync("dotnet", [cli, .. command], cancellationToken, context.RuntimeEnvironment);
        }

        await RunInMicroVmAsync(context, cancellationToken);
    }

    private static async Task RunInMicroVmAsync(BuildContext context, CancellationToken cancellationToken)
    {
        // The built-in image and the kernel live where Native wrote them; the SDK (and the sandbox process it starts)
        // read that location from MSB_QEMU_ASSETS.
        Environment.SetEnvironmentVariable("MSB_QEMU_ASSETS", context.NativeOutDir);
        var orchestrator = new SandboxOrchestrator(new SandboxOptions { QemuAssetsDirectory = context.NativeOutDir });
        await orchestrator.PrepareImagesAsync([null], cancellationToken);

        var command = CommandRequest.Shell(DemoScript.GuestScript) with { Timeout = TimeSpan.FromMinutes(2) };
        BuildLog.Command($"microVM (built-in busybox image): /bin/sh -c '{DemoScript.GuestScript}'");
        var result = await orchestrator.RunAsync(
            new SandboxRequest { Environment = new Dictionary<string, string> { ["DEMO_FROM"] = "the build program" } },
            command,
            OutputSink.FromCallback(line => BuildLog.Info((line.Stream == OutputStream.Stderr ? "[guest stderr] " : "[guest] ") + line.Text)),
            cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new BuildFailedException($"the demo command exited with code {result.ExitCode} in sandbox {result.SandboxName}", result.ExitCode);
        }

        BuildLog.Info($"sandbox {result.SandboxName} ran the command (exit code 0) and was removed");
    }
}
