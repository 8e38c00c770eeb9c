namespace Microsandbox.Build.Targets;

/// <summary>
/// Runs the whole test suite with TRX logging, then prints one closing line "N passed, N failed, N skipped" summed
/// over the TRX files. Fails on any failed test, on a failed run, and when no test ran at all.
/// </summary>
internal sealed class TestTarget : BuildTarget
{
    public override string Name => "Test";

    public override string Description => "run every test (dotnet test) and sum the TRX results into one line";

    public override IReadOnlyList<string> DependsOn => ["Install", "Native", "Images", "Compile"];

    public override async Task RunAsync(BuildContext context, CancellationToken cancellationToken)
    {
        var resultsDir = context.TestResultsDir;
        if (Directory.Exists(resultsDir))
        {
            Directory.Delete(resultsDir, recursive: true); // only this run's results may count
        }

        List<string> arguments =
        [
            "test", context.Solution, "-c", context.Options.Configuration, "--no-build", "-nologo",
            "--logger", "trx", "--results-directory", resultsDir,
            // A wedged test must end the run with a dump and a failure, not sit until CI's own limit.
            "--blame-hang-timeout", "10m",
        ];
        if (context.Options.TestFilter is { } filter)
        {
            arguments.AddRange(["--filter", filter]);
        }

        var exitCode = await context.DotnetUncheckedAsync(arguments, cancellationToken, context.RuntimeEnvironment);
        cancellationToken.ThrowIfCancellationRequested();

        var summary = TrxSummary.FromDirectory(resultsDir);
        context.ClosingLine = summary.ToString();
        BuildLog.Info($"{summary.Files} TRX file(s) in {Path.GetRelativePath(context.RepoRoot, resultsDir)}");

        if (summary.Failed > 0)
        {
            throw new BuildFailedException($"{summary.Failed} test(s) failed", exitCode);
        }

        if (exitCode != 0)
        {
            throw new BuildFailedException($"dotnet test exited with code {exitCode}", exitCode);
        }

        if (summary.Passed == 0)
        {
            throw new BuildFailedException("no tests ran");
        }
    }
}
