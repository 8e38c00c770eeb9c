using System.Text;
using Microsandbox.Config;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Config;

public class SandboxConfigTests
{
    [Theory]
    [InlineData(0u, 1u)]
    [InlineData(3u, 1u)]
    [InlineData(4u, 1u)]
    [InlineData(512u, 128u)]
    [InlineData(2047u, 511u)]
    [InlineData(2048u, 512u)]
    [InlineData(65536u, 512u)]
    public void Default_tmp_is_a_quarter_of_memory_clamped(uint memoryMib, uint expected)
    {
        Assert.Equal(expected, SandboxConfig.DefaultOciTmpfsSizeMib(memoryMib));
    }

    [Fact]
    public void With_defaults_applies_upper_then_tmp_for_oci()
    {
        var spec = new SandboxSpec { Name = "a", Image = RootfsSource.ForOci("alpine") };
        var defaulted = SandboxConfig.FromSpec(spec).WithDefaults().Spec;
        Assert.Equal(4096u, defaulted.Image.OciUpperSizeMib);
        var tmp = Assert.IsType<VolumeMount.Tmpfs>(Assert.Single(defaulted.Mounts));
        Assert.Equal("/tmp", tmp.Guest);
        Assert.Equal(128u, tmp.SizeMib); // 512 MiB default memory / 4
    }

    [Fact]
    public void With_defaults_keeps_explicit_values()
    {
        var spec = new SandboxSpec
        {
            Image = new RootfsSource.Oci(new OciRootfsSource("alpine") { UpperSizeMib = 100 }),
            Mounts = [new VolumeMount.Tmpfs { Guest = "/tmp", SizeMib = 7 }],
        };
        var defaulted = SandboxConfig.FromSpec(spec).WithDefaults(9999).Spec;
        Assert.Equal(100u, defaulted.Image.OciUpperSizeMib);
        Assert.Equal(7u, Assert.IsType<VolumeMount.Tmpfs>(Assert.Single(defaulted.Mounts)).SizeMib);
    }

    [Fact]
    public void With_defaults_is_idempotent()
    {
        var once = SandboxConfig.FromSpec(new SandboxSpec { Image = RootfsSource.ForOci("a") }).WithDefaults();
        var twice = once.WithDefaults();
        Assert.Single(twice.Spec.Mounts);
        Assert.Equal(once.Spec.Image, twice.Spec.Image);
    }

    [Fact]
    public void With_defaults_leaves_the_input_untouched()
    {
        var original = SandboxConfig.FromSpec(new SandboxSpec { Image = RootfsSource.ForOci("a") });
        _ = original.WithDefaults();
        Assert.Empty(original.Spec.Mounts);
        Assert.Null(original.Spec.Image.OciUpperSizeMib);
    }

    [Fact]
    public void Any_mount_kind_at_tmp_suppresses_the_default()
    {
        var spec = new SandboxSpec { Image = RootfsSource.ForOci("a"), Mounts = [new VolumeMount.Named { Name = "t", Guest = "/tmp//" }] };
        Assert.Single(SandboxConfig.FromSpec(spec).WithDefaults().Spec.Mounts);
    }

    [Fact]
    public void Bind_quota_defaults_to_4096_mib()
    {
        Assert.Equal(4096u, SandboxConfig.EffectiveBindQuotaMib(new VolumeMount.Bind { Host = "/h", Guest = "/g" }));
        Assert.Equal(10u, SandboxConfig.EffectiveBindQuotaMib(new VolumeMount.Bind { Host = "/h", Guest = "/g", QuotaMib = 10 }));
    }

    [Fact]
    public void Effective_metrics_interval()
    {
        Assert.Equal(1000ul, new SandboxConfig().EffectiveMetricsIntervalMs);
        var zero = new SandboxConfig { Spec = new SandboxSpec { Runtime = new SandboxRuntimeOptions { MetricsSampleIntervalMs = 0 } } };
        Assert.Null(zero.EffectiveMetricsIntervalMs);
        var disabled = new SandboxConfig { Spec = new SandboxSpec { Runtime = new SandboxRuntimeOptions { DisableMetricsSample = true } } };
        Assert.Null(disabled.EffectiveMetricsIntervalMs);
    }

    [Fact]
    public void Malformed_image_env_entries_are_skipped()
    {
        Assert.Equal([new EnvVar("A", "b=c"), new EnvVar("E", "")], SandboxConfig.MergeEnv(["A=b=c", "NOEQUALS", "E="], []));
    }

    [Fact]
    public void Initial_command_clears_startup_intent()
    {
        var config = new SandboxConfig().WithPersistentInitialCommand(["a"]);
        Assert.True(config.StartupCommandRequested);
        var attached = config.WithInitialCommand(["b"]);
        Assert.False(attached.StartupCommandRequested);
        Assert.Equal(["b"], attached.InitialCommand);
        Assert.Null(attached.WithInitialCommand([]).InitialCommand);
    }

    [Fact]
    public void Persistence_drops_one_shot_commands()
    {
        var config = new SandboxConfig().WithInitialCommand(["x"]).ForPersistence();
        Assert.Null(config.InitialCommand);
        Assert.False(config.WithPersistentInitialCommand(["y"]).ForPersistence().StartupCommandRequested);
    }

    [Fact]
    public void Merge_image_defaults_leaves_non_auto_init_alone()
    {
        var config = new SandboxConfig { Spec = new SandboxSpec { Init = new HandoffInit { Cmd = "/sbin/init" } } }
            .MergeImageDefaults(new ImageConfig { Entrypoint = ["/init", "x"] });
        Assert.Equal("/sbin/init", config.Spec.Init!.Cmd);
        Assert.Empty(config.Spec.Init.Args);
        Assert.Equal(["/init", "x"], config.Spec.Runtime.Entrypoint);
    }

    [Fact]
    public void Merged_labels_are_in_ordinal_order()
    {
        var config = new SandboxConfig().MergeImageDefaults(new ImageConfig
        {
            Labels = new Dictionary<string, string> { ["b"] = "1", ["B"] = "2", ["a"] = "3" },
        });
        Assert.Equal(["B", "a", "b"], config.Spec.Labels.Keys.ToArray());
    }

    [Fact]
    public void Registry_auth_never_shows_its_password()
    {
        var config = new SandboxConfig { RegistryAuth = RegistryAuth.Basic("user", "s3cret") };
        Assert.DoesNotContain("s3cret", config.ToString());
        Assert.Contains("user", config.ToString());
    }
}

public class ImageConfigTests
{
    [Fact]
    public void Reads_the_config_object_of_an_oci_image_config()
    {
        var json = """
            {"architecture":"amd64","os":"linux",
             "config":{"Env":["PATH=/usr/bin","LANG=C"],"Cmd":["python3"],"Entrypoint":["/init"],
                       "WorkingDir":"/app","User":"1000:1000","ExposedPorts":{"80/tcp":{}},
                       "Volumes":{"/data":{}},"Labels":{"vendor":"x"},"StopSignal":"SIGINT"},
             "rootfs":{"type":"layers","diff_ids":[]}}
            """;
        var config = ImageConfig.FromOciConfigJson(Encoding.UTF8.GetBytes(json));
        Assert.Equal(["PATH=/usr/bin", "LANG=C"], config.Env);
        Assert.Equal(["python3"], config.Cmd);
        Assert.Equal(["/init"], config.Entrypoint);
        Assert.Equal("/app", config.WorkingDir);
        Assert.Equal("1000:1000", config.User);
        Assert.Equal(["80/tcp"], config.ExposedPorts);
        Assert.Equal(["/data"], config.Volumes);
        Assert.Equal("x", config.Labels["vendor"]);
        Assert.Equal("SIGINT", config.StopSignal);
    }

    [Fact]
    public void Missing_config_object_means_no_defaults()
    {
        var config = ImageConfig.FromOciConfigJson("""{"rootfs":{"type":"layers","diff_ids":[]}}"""u8);
        Assert.Empty(config.Env);
        Assert.Null(config.Cmd);
        Assert.Null(config.Entrypoint);
        Assert.Empty(config.Labels);
    }

    [Fact]
    public void Null_fields_are_absent()
    {
        var config = ImageConfig.FromOciConfigJson("""{"config":{"Env":null,"Cmd":null,"Labels":null}}"""u8);
        Assert.Empty(config.Env);
        Assert.Null(config.Cmd);
        Assert.Empty(config.Labels);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1]")]
    [InlineData("""{"config":{"Env":"PATH=/x"}}""")]
    public void Malformed_documents_raise_a_clear_error(string json)
    {
        var error = Assert.Throws<MicrosandboxException>(() => ImageConfig.FromOciConfigJson(Encoding.UTF8.GetBytes(json)));
        Assert.StartsWith("failed to parse image config: ", error.Message);
    }
}
