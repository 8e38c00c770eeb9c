namespace Microsandbox.Build.Targets;

/// <summary>Builds the whole solution in the chosen configuration, with the guest package over Native's outputs.</summary>
internal sealed class CompileTarget : BuildTarget
{
    public override string Name => "Compile";

    public override string Description => "dotnet build the solution";

    public override IReadOnlyList<string> DependsOn => ["Restore", "Native"];

    public override Task RunAsync(BuildContext context, CancellationToken cancellationToken) =>
        context.DotnetAsync(
            ["build", context.Solution, "-c", context.Options.Configuration, "--no-restore", "-nologo", context.GuestAssetsProperty],
            cancellationToken);
}
