namespace Microsandbox.Build.Targets;

/// <summary>Removes build outputs: every project's bin/obj outputs for the configuration, and artifacts/.</summary>
internal sealed class CleanTarget : BuildTarget
{
    public override string Name => "Clean";

    public override string Description => "dotnet clean the solution and delete artifacts/";

    public override async Task RunAsync(BuildContext context, CancellationToken cancellationToken)
    {
        await context.DotnetAsync(
            ["clean", context.Solution, "-c", context.Options.Configuration, "-nologo", "-v", "q"],
            cancellationToken);
        if (Directory.Exists(context.ArtifactsDir))
        {
            BuildLog.Info($"deleting {context.ArtifactsDir}");
            Directory.Delete(context.ArtifactsDir, recursive: true);
        }
    }
}
