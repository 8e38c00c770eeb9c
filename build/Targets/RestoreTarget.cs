namespace Microsandbox.Build.Targets;

/// <summary>Restores NuGet packages for the whole solution.</summary>
internal sealed class RestoreTarget : BuildTarget
{
    public override string Name => "Restore";

    public override string Description => "dotnet restore the solution";

    public override Task RunAsync(BuildContext context, CancellationToken cancellationToken) =>
        context.DotnetAsync(["restore", context.Solution, "-nologo"], cancellationToken);
}
