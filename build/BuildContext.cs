namespace Microsandbox.Build;

/// <summary>Paths and services shared by every target of one build invocation.</summary>
internal sealed class BuildContext
{
    public BuildContext(string repoRoot, BuildOptions options)
    {
        RepoRoot = repoRoot;
        Options = options;
        Runner = new CommandRunner(repoRoot);
    }

    public string RepoRoot { get; }

    public BuildOptions Options { get; }

    public CommandRunner Runner { get; }

    public string Solution => Path.Combine(RepoRoot, "Microsandbox.sln");

    public string ArtifactsDir => Path.Combine(RepoRoot, "artifacts");

    public string TestResultsDir => Path.Combine(ArtifactsDir, "test-results");

    public string PackagesDir => Path.Combine(ArtifactsDir, "packages");

    public string NativeDir => Path.Combine(RepoRoot, "native");

    /// <summary>The toolkit's state directory: <c>$MSB_HOME</c> when set, else <c>~/.microsandbox</c> (upstream's rule).</summary>
    public static string StateHome
    {
        get
        {
            var fromEnvironment = Environment.GetEnvironmentVariable("MSB_HOME");
            return string.IsNullOrWhiteSpace(fromEnvironment)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".microsandbox")
                : Path.GetFullPath(fromEnvironment);
        }
    }

    /// <summary>
    /// Where Native writes the kernel, initramfs and root disk: <c>--out</c>, else <c>$MSB_QEMU_ASSETS</c>, else
    /// <c>~/.microsandbox/qemu</c>. Like the SDK's QemuAssets, this ignores MSB_HOME so that tests running with a
    /// temporary state directory still find the shared assets.
    /// </summary>
    public string NativeOutDir =>
        Options.NativeOutDir
        ?? (Environment.GetEnvironmentVariable("MSB_QEMU_ASSETS") is { Length: > 0 } fromEnvironment
            ? Path.GetFullPath(fromEnvironment)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".microsandbox", "qemu"));

    /// <summary>Environment handed to processes that use the native outputs (tests, the demo).</summary>
    public IReadOnlyDictionary<string, string?> RuntimeEnvironment => new Dictionary<string, string?>
    {
        ["MSB_QEMU_ASSETS"] = NativeOutDir,
    };

    /// <summary>A line the runner prints last, after its summary (the Test target's pass/fail counts).</summary>
    public string? ClosingLine { get; set; }

    /// <summary>
    /// Runs the dotnet CLI. When <c>MSB_BUILD_LOCK</c> names a file, the call holds an exclusive lock on it (the same
    /// lock the <c>flock</c> command takes) so that several builds sharing one machine do not compile at once.
    /// </summary>
    public async Task<int> DotnetUncheckedAsync(
        IReadOnlyList<string> arguments,
        CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        using var buildLock = await BuildLock.AcquireFromEnvironmentAsync(cancellationToken);
        return await Runner.RunUncheckedAsync("dotnet", arguments, cancellationToken, environment);
    }

    /// <summary>Runs the dotnet CLI (see <see cref="DotnetUncheckedAsync"/>); throws when it fails.</summary>
    public async Task DotnetAsync(
        IReadOnlyList<string> arguments,
        CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var exitCode = await DotnetUncheckedAsync(arguments, cancellationToken, environment);
        if (exitCode != 0)
        {
            throw new BuildFailedException($"'dotnet {arguments[0]}' exited with code {exitCode}", exitCode);
        }
    }
}
