using Microsandbox.Config;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Config;

/// <summary>The two JSON <c>#[test]</c>s of the config seed (microsandbox 0.6.2 <c>sandbox/config.rs</c>).</summary>
public class ConfigSeedJsonTests
{
    [Fact]
    public void Sandbox_config_serializes_manifest_digest_but_redacts_registry_auth()
    {
        var config = new SandboxConfig
        {
            Spec = new SandboxSpec { Name = "persisted" },
            ReplaceExisting = true,
            ManifestDigest = "sha256:abc123",
        };
        var json = config.ToJson();
        Assert.DoesNotContain("registry_auth", json);
        Assert.DoesNotContain("replace_existing", json);
        Assert.Contains("manifest_digest", json);
        Assert.Contains("sha256:abc123", json);

        var decoded = SandboxConfig.FromJson(json);
        Assert.Null(decoded.RegistryAuth);
        Assert.False(decoded.ReplaceExisting);
        Assert.Equal(config.ManifestDigest, decoded.ManifestDigest);
    }

    [Fact]
    public void Sandbox_config_deserializes_legacy_readonly_mounts()
    {
        var json = """{"name":"legacy","mounts":[{"type":"Tmpfs","guest":"/tmp","size_mib":512,"readonly":false}]}""";
        var decoded = SandboxConfig.FromJson(json);
        var tmpfs = Assert.IsType<VolumeMount.Tmpfs>(Assert.Single(decoded.Spec.Mounts));
        Assert.Equal("/tmp", tmpfs.Guest);
        Assert.Equal(512u, tmpfs.SizeMib);
        Assert.Equal(new MountOptions(), tmpfs.Options);
    }
}

public class SandboxConfigJsonTests
{
    [Fact]
    public void Json_is_the_spec_followed_by_manifest_digest()
    {
        var spec = new SandboxSpec { Name = "a", Image = RootfsSource.ForOci("alpine") };
        var specJson = SpecJson.Serialize(spec);
        Assert.Equal(specJson[..^1] + ",\"manifest_digest\":null}", SandboxConfig.FromSpec(spec).ToJson());
        Assert.Equal(specJson[..^1] + ",\"manifest_digest\":\"sha256:\\\"q\\\"\"}",
            (SandboxConfig.FromSpec(spec) with { ManifestDigest = "sha256:\"q\"" }).ToJson());
    }

    [Fact]
    public void Credentials_and_flags_are_never_written()
    {
        var config = new SandboxBuilder("a").Image("alpine")
            .Registry(r => r.Auth(RegistryAuth.Basic("reg-login", "s3cret")).Insecure().CaCerts("PEM"u8))
            .ReplaceWithTimeout(TimeSpan.FromSeconds(3))
            .Build()
            .WithInitialCommand(["x"]);
        var json = config.ToJson();
        Assert.DoesNotContain("s3cret", json);
        Assert.DoesNotContain("reg-login", json);
        Assert.DoesNotContain("insecure", json);
        Assert.DoesNotContain("replace", json);
        var decoded = SandboxConfig.FromJson(json);
        Assert.Null(decoded.RegistryAuth);
        Assert.False(decoded.Insecure);
        Assert.Empty(decoded.CaCerts);
        Assert.Null(decoded.InitialCommand);
        Assert.Equal(SandboxConfig.DefaultReplaceTimeout, decoded.ReplaceTimeout);
    }

    [Fact]
    public void Round_trip_keeps_the_spec_bytes()
    {
        var config = new SandboxBuilder("rt").Image("python:3.12").Cpus(2).Env("A", "1").Label("t", "x")
            .Volume("/d", m => m.Bind("/h").Quota(5)).Port(8080, 80).Build().WithDefaults();
        var json = config.ToJson();
        Assert.Equal(json, SandboxConfig.FromJson(json).ToJson());
    }

    [Fact]
    public void Config_fields_are_not_reported_as_unknown()
    {
        var result = SandboxConfig.ReadJson("""{"name":"a","manifest_digest":"sha256:1","registry_auth":null,"bogus":1}""");
        Assert.True(result.IsValid);
        Assert.Equal("sha256:1", result.Value!.ManifestDigest);
        var warning = Assert.Single(result.Warnings);
        Assert.Equal("$.bogus", warning.Path);
    }

    [Fact]
    public void Registry_auth_is_accepted_on_read_as_serde_would()
    {
        Assert.Equal(RegistryAuth.Basic("u", "p"),
            SandboxConfig.FromJson("""{"registry_auth":{"Basic":{"username":"u","password":"p"}}}""").RegistryAuth);
        Assert.Equal(RegistryAuth.Anonymous, SandboxConfig.FromJson("""{"registry_auth":"Anonymous"}""").RegistryAuth);
    }

    [Fact]
    public void Bad_config_fields_name_their_path()
    {
        var error = Assert.Throws<SpecJsonException>(() => SandboxConfig.FromJson("""{"manifest_digest":5}"""));
        Assert.Equal("$.manifest_digest", Assert.Single(error.Problems).Path);
        var specError = Assert.Throws<SpecJsonException>(() => SandboxConfig.FromJson("""{"resources":{"cpus":"x"}}"""));
        Assert.StartsWith("$.resources.cpus", Assert.Single(specError.Problems).Path);
    }
}
