using Microsandbox.Cli;

namespace Microsandbox.Tests.Spec;

/// <summary>
/// <c>microsandbox spec defaults</c>: the spec after the image-independent config defaults (OCI upper 4096 MiB,
/// <c>/tmp</c> tmpfs of memory/4 clamped to 512 MiB unless the user mounts <c>/tmp</c>), as in <c>tests/fixtures/spec/defaults/</c>.
/// </summary>
public class SpecDefaultsCliTests
{
    public static IEnumerable<object[]> Cases() =>
        SpecFixtures.Names("defaults", "*.input.json").Select(name => new object[] { name[..^".input.json".Length] });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Prints_spec_after_config_defaults(string name)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };

        int exitCode = CliApp.Run(["spec", "defaults", Path.Combine(SpecFixtures.Root, "defaults", name + ".input.json")], stdout, stderr);

        Assert.Equal("", stderr.ToString());
        Assert.Equal(ExitCodes.Success, exitCode);
        Assert.Equal(SpecFixtures.Read($"defaults/{name}.expected.json") + "\n", stdout.ToString());
    }

    [Fact]
    public void Invalid_spec_exits_2_like_validate()
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };

        int exitCode = CliApp.Run(["spec", "defaults", Path.Combine(SpecFixtures.Root, "invalid", "port-out-of-range.json")], stdout, stderr);

        Assert.Equal(ExitCodes.InvalidInput, exitCode);
        Assert.Equal("", stdout.ToString());
        Assert.Equal(SpecFixtures.Read("invalid/port-out-of-range.expected") + "\n", stderr.ToString());
    }
}
