namespace Microsandbox.Build;

/// <summary>What the user asked for on the command line.</summary>
/// <param name="Targets">Target names in the order given (dependencies are added by the runner).</param>
/// <param name="Configuration">MSBuild configuration for Compile, Test, Pack and Demo.</param>
/// <param name="NativeOutDir">Where Native puts its outputs; null means the state directory's <c>qemu</c> folder.</param>
/// <param name="TestFilter">Optional <c>dotnet test --filter</c> expression.</param>
/// <param name="Skip">Targets not to run even when another target depends on them.</param>
internal sealed record BuildOptions(
    IReadOnlyList<string> Targets,
    string Configuration,
    string? NativeOutDir,
    string? TestFilter,
    IReadOnlySet<string> Skip);
