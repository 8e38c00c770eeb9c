using Microsandbox.Images;

namespace Microsandbox.Tests.Images;

public sealed class ImageReferenceTests
{
    [Theory]
    [InlineData("127.0.0.1:5000/busybox:1.36", "127.0.0.1:5000", "busybox", "1.36", null)]
    [InlineData("127.0.0.1:5000/org/app", "127.0.0.1:5000", "org/app", "latest", null)]
    [InlineData("localhost/app:v1", "localhost", "app", "v1", null)]
    [InlineData("registry.example.test/a/b/c:tag_1", "registry.example.test", "a/b/c", "tag_1", null)]
    public void Parses_registry_repository_and_tag(string text, string registry, string repository, string tag, string? digest)
    {
        var r = ImageReference.Parse(text);
        Assert.Equal(registry, r.Registry);
        Assert.Equal(repository, r.Repository);
        Assert.Equal(tag, r.Tag);
        Assert.Equal(digest, r.Digest);
        Assert.Equal(text, r.Original);
    }

    [Fact]
    public void Digest_references_pin_the_manifest()
    {
        var digest = "sha256:" + new string('a', 64);
        var r = ImageReference.Parse($"127.0.0.1:5000/app:1@{digest}");
        Assert.Equal("1", r.Tag);
        Assert.Equal(digest, r.Digest);
        Assert.Equal(digest, r.ManifestReference);
        var bare = ImageReference.Parse($"127.0.0.1:5000/app@{digest}");
        Assert.Null(bare.Tag);
        Assert.Equal($"127.0.0.1:5000/app@{digest}", bare.ToString());
    }

    [Fact]
    public void References_without_a_host_use_the_default_registry_and_library_namespace()
    {
        var single = ImageReference.Parse("python:3.12");
        Assert.Equal(ImageReference.DefaultRegistry, single.Registry);
        Assert.Equal("library/python", single.Repository);
        Assert.Equal("3.12", single.Tag);
        var nested = ImageReference.Parse("org/app");
        Assert.Equal("org/app", nested.Repository);
        Assert.Equal("latest", nested.Tag);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Upper/Case", "lower-case")]
    [InlineData("app:bad tag", "whitespace")]
    [InlineData("app@sha256:1234", "64 lower-case hex")]
    [InlineData("app:-x", "tag '-x'")]
    [InlineData("127.0.0.1:5000/", "repository name is empty")]
    public void Bad_references_name_the_rule(string text, string expected)
    {
        var e = Assert.Throws<InvalidConfigException>(() => ImageReference.Parse(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Loopback_registries_are_plain_http()
    {
        using var client = new RegistryClient();
        Assert.Equal("http", client.BaseUri(ImageReference.Parse("127.0.0.1:5000/a")).Scheme);
        Assert.Equal("https", client.BaseUri(ImageReference.Parse("registry.example.test/a")).Scheme);
        using var insecure = new RegistryClient(insecure: true);
        Assert.Equal("http", insecure.BaseUri(ImageReference.Parse("registry.example.test/a")).Scheme);
    }

    [Theory]
    [InlineData("redis:7", "docker.io", "library/redis", "7")]
    [InlineData("postgres", "docker.io", "library/postgres", "latest")]
    [InlineData("bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2")]
    [InlineData("docker.io/redis:7", "docker.io", "library/redis", "7")]
    [InlineData("index.docker.io/library/redis:7", "docker.io", "library/redis", "7")]
    [InlineData("docker.io/bitnami/redis", "docker.io", "bitnami/redis", "latest")]
    public void Bare_references_resolve_to_docker_hub_as_the_docker_cli_does(string text, string registry, string repository, string tag)
    {
        if (Environment.GetEnvironmentVariable(ImageReference.DefaultRegistryVariable) is { Length: > 0 } && !text.Contains("docker.io", StringComparison.Ordinal))
            Assert.Skip("MSB_DEFAULT_REGISTRY overrides Docker Hub here");
        var reference = ImageReference.Parse(text);
        Assert.Equal((registry, repository, tag), (reference.Registry, reference.Repository, reference.Tag));
        using var client = new RegistryClient();
        Assert.Equal("https://registry-1.docker.io/v2/", client.BaseUri(reference).ToString());
    }

    [Fact]
    public void Challenge_parameters_keep_quoted_commas()
    {
        var p = RegistryCredentials.ParseParameters("realm=\"http://127.0.0.1:1/token\",service=\"reg\",scope=\"repository:a/b:pull,push\"");
        Assert.Equal("http://127.0.0.1:1/token", p["realm"]);
        Assert.Equal("reg", p["service"]);
        Assert.Equal("repository:a/b:pull,push", p["scope"]);
    }
}
