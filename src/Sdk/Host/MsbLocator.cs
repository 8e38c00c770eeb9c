using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Microsandbox.Host;

/// <summary>
/// Finds the upstream runtime: <c>msb</c> and <c>libkrunfw</c>.
/// <c>msb</c>: <c>MSB_PATH</c>; then <c>$MSB_HOME/bin/msb</c> (<c>~/.microsandbox/bin/msb</c> without MSB_HOME); then the
/// <c>Microsandbox.Krun.linux-x64</c> package when the app references it (unpacked into <c>~/.microsandbox/runtime</c>);
/// then the npm platform package installed under the state directory
/// (<c>&lt;home&gt;/npm/node_modules/@superradcompany/microsandbox-&lt;platform&gt;/bin/msb</c>, also under
/// <c>~/.microsandbox</c> when MSB_HOME moves the state elsewhere); then npm's global folders
/// (<c>npm install -g microsandbox</c>); then <c>PATH</c>.
/// <c>libkrunfw</c>: <c>MSB_LIBKRUNFW_PATH</c>; then beside <c>msb</c> and in <c>../lib</c> next to it (the npm
/// layout); then <c>&lt;home&gt;/lib</c>. The version comes from <c>msb --version</c>.
/// </summary>
public static partial class MsbLocator
{
    /// <summary>The libkrunfw file name upstream 0.6.18 ships on Linux.</summary>
    public const string LibkrunfwFileName = "libkrunfw.so.5.6.1";

    private const string NpmScope = "@superradcompany";

    /// <summary>Looks for the runtime using this process's environment.</summary>
    /// <param name="cancellationToken">Cancels waiting for <c>msb --version</c>.</param>
    public static Task<MsbLocation> LocateAsync(CancellationToken cancellationToken = default) =>
        LocateAsync(Environment.GetEnvironmentVariable, cancellationToken);

    /// <summary>The search with an injectable environment (tests point it at temporary layouts).</summary>
    internal static async Task<MsbLocation> LocateAsync(Func<string, string?> environment, CancellationToken cancellationToken)
    {
        var searched = new List<string>();
        var (msb, source, problem) = FindMsb(environment, searched);
        if (msb is null)
        {
            return new MsbLocation(null, null, null, null, problem ?? NotFoundReason(searched), searched);
        }

        var (libkrunfw, libraryProblem) = FindLibkrunfw(environment, msb, searched);
        var (version, versionProblem) = await ReadVersionAsync(msb, cancellationToken);
        var reason = libraryProblem ?? versionProblem;
        return new MsbLocation(msb, source, libkrunfw, version, reason, searched);
    }

    /// <summary>The platform package suffix npm uses for this machine (e.g. <c>linux-x64-gnu</c>), or null if upstream ships none.</summary>
    public static string? NpmPlatform()
    {
        var arch = RuntimeInformation.OSArchitecture;
        if (OperatingSystem.IsLinux())
        {
            return arch switch { Architecture.X64 => "linux-x64-gnu", Architecture.Arm64 => "linux-arm64-gnu", _ => null };
        }

        if (OperatingSystem.IsMacOS())
        {
            return arch == Architecture.Arm64 ? "darwin-arm64" : null;
        }

        return null;
    }

    /// <summary>Where the build installs the pinned npm package for a state directory: <c>&lt;home&gt;/npm</c>.</summary>
    /// <param name="home">The state directory.</param>
    public static string NpmPrefix(string home) => Path.Combine(home, "npm");

    private static (string? Path, string? Source, string? Problem) FindMsb(Func<string, string?> environment, List<string> searched)
    {
        var fromEnvironment = environment("MSB_PATH");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            searched.Add(fromEnvironment);
            return File.Exists(fromEnvironment)
                ? (Path.GetFullPath(fromEnvironment), "MSB_PATH", null)
                : (null, null, $"MSB_PATH is set to {fromEnvironment}, which is not a file; fix or unset MSB_PATH");
        }

        var defaultHome = DefaultHome(environment);
        var home = StateHome(environment);
        var homeBin = Path.Combine(home, "bin", "msb");
        searched.Add(homeBin);
        if (File.Exists(homeBin))
        {
            return (homeBin, "$MSB_HOME/bin", null);
        }

        // A reference to the Microsandbox.Krun.linux-x64 package: a deliberate choice, above whatever npm left behind.
        if (AssetPackage.Krun.IsAvailable)
        {
            string? unpacked;
            try
            {
                unpacked = AssetPackage.Krun.EnsureUnpacked(MicrosandboxHome.UserInstallRoot());
            }
            catch (MicrosandboxException e)
            {
                return (null, null, e.Message); // a reason to fall back to QEMU, not a crash of engine selection
            }
            var packaged = Path.Combine(unpacked!, "msb");
            searched.Add(packaged);
            if (File.Exists(packaged))
            {
                return (packaged, "package " + AssetPackage.Krun.AssemblyName, null);
            }
        }

        if (NpmPlatform() is { } platform)
        {
            foreach (var root in new[] { home, defaultHome }.Distinct(StringComparer.Ordinal))
            {
                var npmMsb = Path.Combine(NpmPrefix(root), "node_modules", NpmScope, "microsandbox-" + platform, "bin", "msb");
                searched.Add(npmMsb);
                if (File.Exists(npmMsb))
                {
                    return (npmMsb, "npm", null);
                }
            }

            // `npm install -g microsandbox`: the platform package hoisted beside it, or nested under it.
            foreach (var modules in GlobalNodeModules(environment))
            {
                foreach (var candidate in new[]
                {
                    Path.Combine(modules, NpmScope, "microsandbox-" + platform, "bin", "msb"),
                    Path.Combine(modules, "microsandbox", "node_modules", NpmScope, "microsandbox-" + platform, "bin", "msb"),
                })
                {
                    searched.Add(candidate);
                    if (File.Exists(candidate))
                    {
                        return (candidate, "global npm", null);
                    }
                }
            }
        }

        foreach (var directory in (environment("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "msb");
            searched.Add(candidate);
            if (File.Exists(candidate))
            {
                return (Path.GetFullPath(candidate), "PATH", null);
            }
        }

        return (null, null, null);
    }

    private static (string? Path, string? Problem) FindLibkrunfw(Func<string, string?> environment, string msbPath, List<string> searched)
    {
        var fromEnvironment = environment("MSB_LIBKRUNFW_PATH");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            searched.Add(fromEnvironment);
            return File.Exists(fromEnvironment)
                ? (Path.GetFullPath(fromEnvironment), null)
                : (null, $"MSB_LIBKRUNFW_PATH is set to {fromEnvironment}, which is not a file; fix or unset it");
        }

        // Resolve a symlinked msb (npm's node_modules/.bin) to where its package really is.
        var realMsb = new FileInfo(msbPath).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? msbPath;
        var directories = new List<string>();
        foreach (var msb in new[] { msbPath, realMsb }.Distinct(StringComparer.Ordinal))
        {
            var binDirectory = Path.GetDirectoryName(msb)!;
            directories.Add(binDirectory);
            if (Path.GetDirectoryName(binDirectory) is { } parent)
            {
                directories.Add(Path.Combine(parent, "lib"));
            }
        }

        directories.Add(Path.Combine(StateHome(environment), "lib"));
        foreach (var directory in directories.Distinct(StringComparer.Ordinal))
        {
            var exact = Path.Combine(directory, LibkrunfwFileName);
            searched.Add(exact);
            if (File.Exists(exact))
            {
                return (exact, null);
            }

            // Another 5.x build of the library (same ABI) is what msb would load too.
            if (Directory.Exists(directory) &&
                Directory.EnumerateFiles(directory, "libkrunfw.so.5*").Order(StringComparer.Ordinal).LastOrDefault() is { } other)
            {
                return (other, null);
            }
        }

        return (null, $"libkrunfw was not found next to {msbPath} or in the state directory (looked for {LibkrunfwFileName}); " +
                      "reinstall the npm platform package or set MSB_LIBKRUNFW_PATH");
    }

    private static async Task<(string? Version, string? Problem)> ReadVersionAsync(string msbPath, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(msbPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("--version");

        Process? process;
        try
        {
            process = Process.Start(startInfo);
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            return (null, $"{msbPath} could not be run: {exception.Message}");
        }

        if (process is null)
        {
            return (null, $"{msbPath} could not be run");
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(15));
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                cancellationToken.ThrowIfCancellationRequested();
                return (null, $"`{msbPath} --version` did not answer within 15 s");
            }

            var text = await output;
            await errors;
            var match = VersionPattern().Match(text);
            if (process.ExitCode != 0 || !match.Success)
            {
                return (null, $"`{msbPath} --version` did not print a version (exit code {process.ExitCode}): {text.Trim()}");
            }

            return (match.Groups[1].Value, null);
        }
    }

    /// <summary>The exact command that installs the pinned runtime where this locator finds it (npm's global prefix).</summary>
    public static string InstallHint =>
        $"dotnet add package {AssetPackage.Krun.AssemblyName}, or npm install -g microsandbox@{MicrosandboxDefaults.RuntimeVersion} {NpmScope}/microsandbox-{NpmPlatform() ?? "<platform>"}@{MicrosandboxDefaults.RuntimeVersion}, or set MSB_PATH to an msb binary";

    private static string NotFoundReason(List<string> searched) =>
        "msb was not found (looked in: " + string.Join(", ", searched.Take(6)) + (searched.Count > 6 ? ", … PATH" : string.Empty) +
        "); install it with " + InstallHint;

    // npm's global node_modules folders, without running npm: the prefixes Node's installers and distributions use,
    // NPM_CONFIG_PREFIX, and the user prefix npm's docs recommend.
    private static IEnumerable<string> GlobalNodeModules(Func<string, string?> environment)
    {
        if (environment("NPM_CONFIG_PREFIX") is { Length: > 0 } prefix) yield return Path.Combine(prefix, "lib", "node_modules");
        yield return "/usr/local/lib/node_modules";
        yield return "/usr/lib/node_modules";
        if (environment("HOME") is { Length: > 0 } home) yield return Path.Combine(home, ".npm-global", "lib", "node_modules");
    }

    private static string DefaultHome(Func<string, string?> environment)
    {
        var userHome = environment("HOME");
        if (string.IsNullOrWhiteSpace(userHome))
        {
            userHome = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        }

        return Path.Combine(userHome, ".microsandbox");
    }

    private static string StateHome(Func<string, string?> environment)
    {
        var fromEnvironment = environment("MSB_HOME");
        return string.IsNullOrWhiteSpace(fromEnvironment) ? DefaultHome(environment) : Path.GetFullPath(fromEnvironment);
    }

    [GeneratedRegex(@"(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.\-]+)?)")]
    private static partial Regex VersionPattern();
}
