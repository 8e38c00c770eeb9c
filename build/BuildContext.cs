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

    /// <summary>Where the Images target writes the service images' OCI layouts (images/README.md).</summary>
    public string ImagesDir => Path.Combine(ArtifactsDir, "images");

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
    /// Where Native writes the kernel, initramfs, root disks and guest.tar.gz: <c>--out</c>, else <c>native/out</c>.
    /// The Microsandbox.Guest.linux-x64 project embeds guest.tar.gz from here, so everything that boots a VM takes its
    /// assets from that package, as a consumer's does.
    /// </summary>
    public string NativeOutDir => Options.NativeOutDir ?? Path.Combine(NativeDir, "out");

    /// <summary>
    /// Environment handed to the tests: <c>MSB_NATIVE_OUT</c> names Native's directory for the test-only tools it
    /// also builds (agentctl, the plain rootfs tree). Guests boot from the packaged assets, never from here.
    /// </summary>
    public IReadOnlyDictionary<string, string?> RuntimeEnvironment => new Dictionary<string, string?>
    {
        ["MSB_NATIVE_OUT"] = NativeOutDir,
        ["MSB_TEST_IMAGES"] = ImagesDir,
    };

    /// <summary>The MSBuild property that points the guest package's project at Native's outputs.</summary>
    public string GuestAssetsProperty => $"-p:MicrosandboxGuestAssets={NativeOutDir}/";

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
