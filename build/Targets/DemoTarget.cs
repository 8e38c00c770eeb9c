namespace Microsandbox.Build.Targets;

/// <summary>The main job: runs the freshly built <c>microsandbox</c> CLI through <see cref="DemoScript.Commands"/>.</summary>
internal sealed class DemoTarget : BuildTarget
{
    public override string Name => "Demo";

    public override string Description => "run the microsandbox CLI on the sample (samples/sandbox.json)";

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
    }
}
