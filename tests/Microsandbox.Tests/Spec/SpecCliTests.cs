using System.Diagnostics;
using Microsandbox.Cli;

namespace Microsandbox.Tests.Spec;

/// <summary>
/// <c>microsandbox spec validate</c>: valid specs come back in serde's exact form on stdout (exit 0); every invalid
/// fixture exits 2 with exactly the error lines of its <c>.expected</c> file and never a stack trace.
/// </summary>
public class SpecCliTests
{
    public static IEnumerable<object[]> InvalidFixtures() =>
        SpecFixtures.Names("invalid", "*.json").Select(name => new object[] { name[..^".json".Length] });

    public static IEnumerable<object[]> ValidSpecFixtures() =>
        SpecFixtures.Names("", "SandboxSpec.*.json")
            .Where(name => name != "SandboxSpec.default.json") // the default spec has no name, which validate rejects
            .Select(name => new object[] { name });

    [Theory]
    [MemberData(nameof(InvalidFixtures))]
    public void Invalid_spec_exits_2_naming_the_field(string name)
    {
        var (exitCode, stdout, stderr) = RunInProcess("spec", "validate", Path.Combine(SpecFixtures.Root, "invalid", name + ".json"));

        Assert.Equal(ExitCodes.InvalidInput, exitCode);
        Assert.Equal("", stdout);
        Assert.Equal(SpecFixtures.Read($"invalid/{name}.expected"), stderr.TrimEnd('\n'));
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ValidSpecFixtures))]
    public void Valid_spec_prints_serde_form_and_exits_0(string fixture)
    {
        var (exitCode, stdout, stderr) = RunInProcess("spec", "validate", Path.Combine(SpecFixtures.Root, fixture));

        Assert.Equal("", stderr);
        Assert.Equal(ExitCodes.Success, exitCode);
        Assert.Equal(SpecFixtures.Read(fixture) + "\n", stdout);
    }

    [Fact]
    public void Partial_spec_is_printed_with_every_field_and_unknown_fields_warned()
    {
        var (exitCode, stdout, stderr) = RunInProcess("spec", "validate", Path.Combine(SpecFixtures.Root, "normalize", "unknown-fields.input.json"));

        Assert.Equal(ExitCodes.Success, exitCode);
        Assert.Equal(SpecFixtures.Read("normalize/unknown-fields.expected.json") + "\n", stdout);
        Assert.Equal(
            [
                "warning: $.image.Oci.digest: unknown field, ignored",
                "warning: $.resources.gpus: unknown field, ignored",
                "warning: $.mounts[0].create: unknown field, ignored",
                "warning: $.future_field: unknown field, ignored",
            ],
            stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Missing_file_exits_2_with_one_line()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"msb-no-such-{Guid.NewGuid():N}.json");

        var (exitCode, stdout, stderr) = RunInProcess("spec", "validate", missing);

        Assert.Equal(ExitCodes.InvalidInput, exitCode);
        Assert.Equal("", stdout);
        Assert.StartsWith($"error: {missing}: cannot read file: ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Directory_instead_of_file_exits_2_with_one_line()
    {
        var (exitCode, _, stderr) = RunInProcess("spec", "validate", SpecFixtures.Root);

        Assert.Equal(ExitCodes.InvalidInput, exitCode);
        Assert.StartsWith($"error: {SpecFixtures.Root}: cannot read file: ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_argument_is_a_usage_error_not_a_crash()
    {
        var (exitCode, _, stderr) = RunInProcess("spec", "validate");

        Assert.NotEqual(ExitCodes.Success, exitCode);
        Assert.Contains("Required argument missing", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Built_cli_runs_as_a_child_process()
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Microsandbox.Cli.dll");
        Assert.True(File.Exists(cli), $"{cli} is missing: the test project references src/Cli");

        var invalid = await RunChildAsync(cli, "spec", "validate", Path.Combine(SpecFixtures.Root, "invalid", "cpus-out-of-range.json"));
        Assert.Equal(ExitCodes.InvalidInput, invalid.ExitCode);
        Assert.Equal("", invalid.Stdout);
        Assert.Equal("error: $.resources.cpus: expected an integer 0..255\n", invalid.Stderr);

        // A label key with a non-ASCII character: the output must stay UTF-8 even under the C locale.
        var valid = await RunChildAsync(cli, "spec", "validate", Path.Combine(SpecFixtures.Root, "SandboxSpec.disk-image-rootfs.json"));
        Assert.Equal("", valid.Stderr);
        Assert.Equal(ExitCodes.Success, valid.ExitCode);
        Assert.Equal(SpecFixtures.Read("SandboxSpec.disk-image-rootfs.json") + "\n", valid.Stdout);
    }

    private static (int ExitCode, string Stdout, string Stderr) RunInProcess(params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        int exitCode = CliApp.Run(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunChildAsync(string cli, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = System.Text.Encoding.UTF8,
            StandardErrorEncoding = System.Text.Encoding.UTF8,
        };
        start.Environment["LC_ALL"] = "C";
        start.Environment["LANG"] = "C";
        start.ArgumentList.Add(cli);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }
}
