using Microsandbox.Host;

namespace Microsandbox.Tests.State;

public class MsbLocatorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A fake msb: a script that answers --version like the real one.</summary>
    private static string FakeMsb(string directory, string version = "0.6.18")
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "msb");
        File.WriteAllText(path, $"#!/bin/sh\necho \"msb {version}\"\n");
        MakeExecutable(path);
        return path;
    }

    private static void MakeExecutable(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static string FakeLibrary(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, MsbLocator.LibkrunfwFileName);
        File.WriteAllText(path, "not really a library");
        return path;
    }

    private static Func<string, string?> Environment(Dictionary<string, string?> values) =>
        name => values.TryGetValue(name, out var value) ? value : null;

    private static void RequireUnix()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("fake msb is a shell script");
        }
    }

    [Fact]
    public async Task Msb_path_wins_and_libkrunfw_is_found_in_the_npm_lib_layout()
    {
        RequireUnix();
        using var root = new TempHome();
        var msb = FakeMsb(Path.Combine(root.Path, "pkg", "bin"));
        var library = FakeLibrary(Path.Combine(root.Path, "pkg", "lib"));
        FakeMsb(Path.Combine(root.Path, "home", "bin"), "9.9.9");

        var location = await MsbLocator.LocateAsync(Environment(new()
        {
            ["MSB_PATH"] = msb,
            ["MSB_HOME"] = Path.Combine(root.Path, "home"),
            ["HOME"] = root.Path,
        }), Ct);

        Assert.True(location.IsUsable, location.Reason);
        Assert.Equal(msb, location.MsbPath);
        Assert.Equal("MSB_PATH", location.MsbSource);
        Assert.Equal(library, location.LibkrunfwPath);
        Assert.Equal("0.6.18", location.Version);
        Assert.True(location.IsPinnedVersion);
    }

    [Fact]
    public async Task Msb_home_bin_comes_before_npm_and_path()
    {
        RequireUnix();
        using var root = new TempHome();
        var home = Path.Combine(root.Path, "state");
        var homeMsb = FakeMsb(Path.Combine(home, "bin"), "0.6.17");
        FakeLibrary(Path.Combine(home, "lib"));
        var pathDirectory = Path.Combine(root.Path, "on-path");
        FakeMsb(pathDirectory);

        var location = await MsbLocator.LocateAsync(Environment(new()
        {
            ["MSB_HOME"] = home,
            ["HOME"] = root.Path,
            ["PATH"] = pathDirectory,
        }), Ct);

        Assert.Equal(homeMsb, location.MsbPath);
        Assert.Equal("$MSB_HOME/bin", location.MsbSource);
        Assert.Equal("0.6.17", location.Version);
        Assert.False(location.IsPinnedVersion);
        Assert.Equal(Path.Combine(home, "lib", MsbLocator.LibkrunfwFileName), location.LibkrunfwPath);
    }

    [Fact]
    public async Task Npm_package_under_the_state_directory_is_found()
    {
        RequireUnix();
        var platform = MsbLocator.NpmPlatform();
        if (platform is null)
        {
            Assert.Skip("upstream ships no npm platform package for this OS/architecture");
        }

        using var root = new TempHome();
        var package = Path.Combine(root.Path, ".microsandbox", "npm", "node_modules", "@superradcompany", "microsandbox-" + platform);
        var msb = FakeMsb(Path.Combine(package, "bin"));
        var library = FakeLibrary(Path.Combine(package, "lib"));

        var location = await MsbLocator.LocateAsync(Environment(new() { ["HOME"] = root.Path, ["PATH"] = "" }), Ct);

        Assert.Equal(msb, location.MsbPath);
        Assert.Equal("npm", location.MsbSource);
        Assert.Equal(library, location.LibkrunfwPath);
        Assert.True(location.IsUsable, location.Reason);
    }

    [Fact]
    public async Task Path_lookup_is_the_last_resort()
    {
        RequireUnix();
        using var root = new TempHome();
        var pathDirectory = Path.Combine(root.Path, "usr", "bin");
        var msb = FakeMsb(pathDirectory);
        var library = FakeLibrary(pathDirectory);

        var location = await MsbLocator.LocateAsync(Environment(new()
        {
            ["HOME"] = root.Path,
            ["PATH"] = Path.Combine(root.Path, "empty") + Path.PathSeparator + pathDirectory,
        }), Ct);

        Assert.Equal(msb, location.MsbPath);
        Assert.Equal("PATH", location.MsbSource);
        Assert.Equal(library, location.LibkrunfwPath);
    }

    [Fact]
    public async Task Nothing_installed_gives_a_reason_with_the_fix()
    {
        using var root = new TempHome();

        var location = await MsbLocator.LocateAsync(Environment(new() { ["HOME"] = root.Path, ["PATH"] = "" }), Ct);

        Assert.False(location.IsUsable);
        Assert.Null(location.MsbPath);
        Assert.Contains("msb was not found", location.Reason, StringComparison.Ordinal);
        Assert.Contains("MSB_PATH", location.Reason, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(root.Path, ".microsandbox", "bin", "msb"), location.Searched);
    }

    [Fact]
    public async Task Msb_path_to_a_missing_file_is_reported_not_skipped()
    {
        using var root = new TempHome();
        FakeMsb(Path.Combine(root.Path, ".microsandbox", "bin"));

        var location = await MsbLocator.LocateAsync(Environment(new()
        {
            ["MSB_PATH"] = Path.Combine(root.Path, "nope", "msb"),
            ["HOME"] = root.Path,
        }), Ct);

        Assert.Null(location.MsbPath);
        Assert.Contains("MSB_PATH is set to", location.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_libkrunfw_makes_the_runtime_unusable_with_a_reason()
    {
        RequireUnix();
        using var root = new TempHome();
        var msb = FakeMsb(Path.Combine(root.Path, "bin"));

        var location = await MsbLocator.LocateAsync(Environment(new() { ["MSB_PATH"] = msb, ["HOME"] = root.Path }), Ct);

        Assert.Equal(msb, location.MsbPath);
        Assert.Null(location.LibkrunfwPath);
        Assert.False(location.IsUsable);
        Assert.Contains("libkrunfw", location.Reason, StringComparison.Ordinal);

        var overridden = await MsbLocator.LocateAsync(Environment(new()
        {
            ["MSB_PATH"] = msb,
            ["MSB_LIBKRUNFW_PATH"] = Path.Combine(root.Path, "missing.so"),
            ["HOME"] = root.Path,
        }), Ct);
        Assert.Contains("MSB_LIBKRUNFW_PATH is set to", overridden.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Binary_that_prints_no_version_is_reported()
    {
        RequireUnix();
        using var root = new TempHome();
        var directory = Path.Combine(root.Path, "bin");
        Directory.CreateDirectory(directory);
        var msb = Path.Combine(directory, "msb");
        await File.WriteAllTextAsync(msb, "#!/bin/sh\necho broken >&2\nexit 3\n", Ct);
        MakeExecutable(msb);
        FakeLibrary(directory);

        var location = await MsbLocator.LocateAsync(Environment(new() { ["MSB_PATH"] = msb, ["HOME"] = root.Path }), Ct);

        Assert.Null(location.Version);
        Assert.False(location.IsUsable);
        Assert.Contains("exit code 3", location.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Real_installation_reports_the_pinned_version()
    {
        var location = await MsbLocator.LocateAsync(Ct);
        if (location.MsbPath is null)
        {
            Assert.Skip($"no msb installed here: {location.Reason}");
        }

        Assert.True(location.IsUsable, location.Reason);
        Assert.Matches(@"^\d+\.\d+\.\d+", location.Version);
        Assert.True(File.Exists(location.LibkrunfwPath));
    }
}
