using Microsandbox.Spec;

namespace Microsandbox.Tests.Spec;

/// <summary>Upstream's pre-create checks, with upstream's message texts.</summary>
public class SpecValidatorTests
{
    private static readonly SandboxSpec Valid = new() { Name = "ok", Image = RootfsSource.ForOci("alpine") };

    [Fact]
    public void A_named_spec_with_an_image_is_valid() => Assert.Empty(SpecValidator.Validate(Valid));

    [Theory]
    [InlineData("a")]
    [InlineData("web-1.prod_blue")]
    [InlineData("0start")]
    public void Good_names_pass(string name) => Assert.Null(SpecValidator.NameProblem(name));

    [Theory]
    [InlineData("", "sandbox name is required")]
    [InlineData("_x", "sandbox name must start with an alphanumeric and contain only alphanumeric, dots, hyphens, and underscores: _x")]
    [InlineData("a/b", "sandbox name must start with an alphanumeric and contain only alphanumeric, dots, hyphens, and underscores: a/b")]
    [InlineData("é", "sandbox name must start with an alphanumeric and contain only alphanumeric, dots, hyphens, and underscores: é")]
    public void Bad_names_fail_with_upstream_text(string name, string message) => Assert.Equal(message, SpecValidator.NameProblem(name));

    [Fact]
    public void Name_longer_than_128_bytes_fails()
    {
        Assert.Null(SpecValidator.NameProblem(new string('a', 128)));
        Assert.Equal("sandbox name must be at most 128 characters: got 129", SpecValidator.NameProblem(new string('a', 129)));
    }

    [Fact]
    public void Hostname_must_be_non_empty_and_at_most_64_bytes()
    {
        Assert.Null(SpecValidator.HostnameProblem(null));
        Assert.Null(SpecValidator.HostnameProblem(new string('h', 64)));
        Assert.Equal("hostname must not be empty", SpecValidator.HostnameProblem(""));
        Assert.Equal("hostname is too long: 65 bytes (max 64)", SpecValidator.HostnameProblem(new string('h', 65)));
    }

    [Fact]
    public void Zero_memory_and_empty_image_are_reported_with_paths()
    {
        var spec = Valid with { Image = RootfsSource.ForOci(""), Resources = new SandboxResources { MemoryMib = 0 } };
        Assert.Equal(
            ["$.resources.memory_mib: memory must be greater than 0", "$.image.Oci.reference: image source is required"],
            SpecValidator.Validate(spec).Select(p => p.ToString()));
    }

    [Fact]
    public void Bind_rootfs_needs_no_reference() =>
        Assert.Empty(SpecValidator.Validate(Valid with { Image = new RootfsSource.Bind("/srv/root") }));
}
