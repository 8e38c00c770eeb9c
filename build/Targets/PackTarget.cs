using System.Text.RegularExpressions;

namespace Microsandbox.Build.Targets;

/// <summary>Packs every packable project into artifacts/packages and checks that the Microsandbox package is there.</summary>
internal sealed partial class PackTarget : BuildTarget
{
    public override string Name => "Pack";

    public override string Description => "dotnet pack the solution into artifacts/packages";

    public override IReadOnlyList<string> DependsOn => ["Compile"];

    public override async Task RunAsync(BuildContext context, CancellationToken cancellationToken)
    {
        await context.DotnetAsync(
            ["pack", context.Solution, "-c", context.Options.Configuration, "--no-build", "-nologo",
             $"-p:PackageOutputPath={context.PackagesDir}/", context.GuestAssetsProperty],
            cancellationToken);

        var packages = Directory.Exists(context.PackagesDir)
            ? Directory.GetFiles(context.PackagesDir, "*.nupkg").Select(Path.GetFileName).OfType<string>().Order().ToList()
            : [];
        foreach (var package in packages)
        {
            BuildLog.Info($"artifacts/packages/{package}");
        }

        if (!packages.Any(name => SdkPackageName().IsMatch(name)))
        {
            throw new BuildFailedException("dotnet pack did not produce the Microsandbox package");
        }
    }

    [GeneratedRegex(@"^Microsandbox\.\d+\.\d+\.\d+([-+].*)?\.nupkg$")]
    private static partial Regex SdkPackageName();
}
