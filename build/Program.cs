using System.CommandLine;
using Microsandbox.Build;
using Microsandbox.Build.Targets;

// The build runs on Debian (native/build.sh, apt, mmdebstrap, QEMU): Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

BuildTarget[] catalog =
[
    new InstallTarget(),
    new NativeTarget(),
    new ImagesTarget(),
    new CleanTarget(),
    new RestoreTarget(),
    new CompileTarget(),
    new TestTarget(),
    new PackTarget(),
    new DemoTarget(),
];
var runner = new TargetRunner(catalog);

var targetsArgument = new Argument<string[]>("targets")
{
    Description = "Targets to run, in order; their dependencies run first, each once.",
    Arity = ArgumentArity.OneOrMore,
};
targetsArgument.Validators.Add(result =>
{
    foreach (var name in result.GetValueOrDefault<string[]>() ?? [])
    {
        if (runner.Find(name) is null)
        {
            result.AddError($"Unknown target '{name}'. Targets: {string.Join(", ", catalog.Select(t => t.Name))}.");
        }
    }
});

var configurationOption = new Option<string>("--configuration", "-c")
{
    Description = "Build configuration for Compile, Test, Pack and Demo.",
    DefaultValueFactory = _ => "Release",
};
configurationOption.AcceptOnlyFromAmong("Release", "Debug");

var outOption = new Option<string?>("--out")
{
    Description = "Output directory for Native (default: native/out); the guest package embeds what Native writes there.",
};

var filterOption = new Option<string?>("--filter")
{
    Description = "dotnet test --filter expression for Test.",
};

var skipOption = new Option<string[]>("--skip")
{
    Description = "Target not to run even as a dependency (repeatable), e.g. --skip Install.",
    AllowMultipleArgumentsPerToken = true,
};

var root = new RootCommand(
    "Microsandbox for .NET build program.\n\nTargets:\n"
    + string.Join('\n', catalog.Select(target =>
        $"  {target.Name,-8} {target.Description}"
        + (target.DependsOn.Count > 0 ? $" (after {string.Join(", ", target.DependsOn)})" : string.Empty))))
{
    targetsArgument,
    configurationOption,
    outOption,
    filterOption,
    skipOption,
};

root.SetAction(async (parseResult, cancellationToken) =>
{
    var repoRoot = RepositoryRoot.Find();
    var outDir = parseResult.GetValue(outOption);
    var options = new BuildOptions(
        Targets: parseResult.GetValue(targetsArgument) ?? [],
        Configuration: parseResult.GetValue(configurationOption) ?? "Release",
        NativeOutDir: string.IsNullOrWhiteSpace(outDir) ? null : Path.GetFullPath(outDir),
        TestFilter: parseResult.GetValue(filterOption),
        Skip: (parseResult.GetValue(skipOption) ?? [])
            .Select(name => runner.Find(name)?.Name ?? name)
            .ToHashSet(StringComparer.OrdinalIgnoreCase));

    try
    {
        return await runner.RunAsync(new BuildContext(repoRoot, options), cancellationToken);
    }
    catch (BuildFailedException ex)
    {
        BuildLog.Error(ex.Message);
        return ex.ExitCode;
    }
});

// Ctrl+C / SIGTERM cancel the token above; children get SIGINT, then are killed if they linger (CommandRunner).
return await root.Parse(args).InvokeAsync(
    new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(20) });
