using System.Net;
using System.Text.Json;
using Microsandbox.Config;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Builders;

public class SandboxBuilderTests
{
    // Shared on purpose: builders are immutable, so specialising it in one test cannot leak into another.
    private static readonly SandboxBuilder Base = new SandboxBuilder("worker").Image("alpine:3.20");

    private static SandboxSpec Spec(SandboxBuilder builder) => builder.Build().Spec;

    private static string Error(SandboxBuilder builder) => Assert.Throws<InvalidConfigException>(() => builder.Build()).Message;

    [Fact]
    public void Defaults_match_upstream()
    {
        var config = Base.Build();
        var spec = config.Spec;
        Assert.Equal("worker", spec.Name);
        Assert.Equal("alpine:3.20", spec.Image.OciReference);
        Assert.Equal(1, spec.Resources.Cpus);
        Assert.Equal(512u, spec.Resources.MemoryMib);
        Assert.Equal(1000ul, spec.Runtime.MetricsSampleIntervalMs);
        Assert.False(spec.Runtime.DisableMetricsSample);
        Assert.Null(spec.Runtime.LogLevel);
        Assert.True(spec.Network.Enabled);
        Assert.Empty(spec.Network.Ports);
        Assert.Equal(PullPolicy.IfMissing, spec.PullPolicy);
        Assert.Equal(SecurityProfile.Default, spec.SecurityProfile);
        Assert.False(spec.Lifecycle.Ephemeral);
        Assert.Null(spec.Init);
        Assert.False(config.ReplaceExisting);
        Assert.Equal(TimeSpan.FromSeconds(10), config.ReplaceTimeout);
        Assert.Null(config.RegistryAuth);
        // Builders never apply config defaults: those belong to create time.
        Assert.Empty(spec.Mounts);
        Assert.Null(spec.Image.OciUpperSizeMib);
    }

    [Fact]
    public void Shared_base_builder_is_not_mutated()
    {
        var big = Base.Cpus(4).Env("A", "1").Label("k", "v").Volume("/d", m => m.Tmpfs());
        Assert.Equal(4, Spec(big).Resources.Cpus);
        var baseSpec = Spec(Base);
        Assert.Equal(1, baseSpec.Resources.Cpus);
        Assert.Empty(baseSpec.Env);
        Assert.Empty(baseSpec.Labels);
        Assert.Empty(baseSpec.Mounts);
    }

    [Fact]
    public void Errors_recorded_on_a_branch_do_not_leak_into_the_base()
    {
        var broken = Base.Env("MSB_X", "1");
        Assert.Throws<InvalidConfigException>(() => broken.Build());
        Base.Build();
    }

    // ---- image ----

    [Fact]
    public void Image_text_resolves_like_upstream()
    {
        Assert.IsType<RootfsSource.Bind>(Spec(Base.Image("./rootfs")).Image);
        Assert.IsType<RootfsSource.DiskImage>(Spec(Base.Image("/images/os.qcow2")).Image);
        Assert.Equal("python:3.12", Spec(Base.Image("python:3.12")).Image.OciReference);
    }

    [Fact]
    public void Image_with_builder_sets_upper_size()
    {
        var spec = Spec(Base.ImageWith(i => i.Oci("python:3.12").UpperSize(8192)));
        Assert.Equal("python:3.12", spec.Image.OciReference);
        Assert.Equal(8192u, spec.Image.OciUpperSizeMib);
        Assert.Equal(4096u, Spec(Base.Image(i => i.Oci("a").UpperSize(4096))).Image.OciUpperSizeMib);
    }

    [Fact]
    public void Image_with_builder_error_surfaces_at_build()
    {
        Assert.Equal("fstype() requires disk() to be called first", Error(Base.ImageWith(i => i.Oci("a").Fstype("ext4"))));
    }

    [Fact]
    public void Oci_upper_size_sets_the_upper_of_the_oci_image()
    {
        Assert.Equal(2048u, Spec(Base.OciUpperSize(2048)).Image.OciUpperSizeMib);
    }

    [Fact]
    public void Oci_upper_size_needs_an_oci_image()
    {
        Assert.Equal("oci_upper_size() requires an OCI image to be set first", Error(new SandboxBuilder("w").OciUpperSize(1).Image("a")));
        Assert.Equal("oci_upper_size() is only valid for OCI images", Error(Base.Image("./rootfs").OciUpperSize(1)));
    }

    [Fact]
    public void Missing_image_is_reported()
    {
        Assert.Equal("image source is required", Error(new SandboxBuilder("w")));
    }

    [Fact]
    public void Zero_upper_size_is_rejected()
    {
        Assert.Equal("root disk size must be greater than 0", Error(Base.OciUpperSize(0)));
    }

    [Fact]
    public void Disk_image_root_cannot_be_patched()
    {
        Assert.Equal("patches are not compatible with disk image rootfs",
            Error(Base.Image("./os.raw").Patch(p => p.Mkdir("/x"))));
    }

    [Fact]
    public void Pull_policy_is_recorded()
    {
        Assert.Equal(PullPolicy.Never, Spec(Base.PullPolicy(PullPolicy.Never)).PullPolicy);
        Assert.Equal(PullPolicy.Always, Spec(Base.PullPolicy(PullPolicy.Always)).PullPolicy);
    }

    [Fact]
    public void Registry_settings_are_kept_on_the_config()
    {
        var config = Base.Registry(r => r.Auth(RegistryAuth.Basic("u", "p")).Insecure().CaCerts("PEM"u8)).Build();
        Assert.Equal(RegistryAuth.Basic("u", "p"), config.RegistryAuth);
        Assert.True(config.Insecure);
        Assert.Equal("PEM"u8.ToArray(), Assert.Single(config.CaCerts));
        Assert.DoesNotContain("p }", config.RegistryAuth!.ToString());
    }

    // ---- resources and runtime ----

    [Fact]
    public void Cpus_and_memory_are_recorded()
    {
        var spec = Spec(Base.Cpus(4).Memory(2048));
        Assert.Equal(4, spec.Resources.Cpus);
        Assert.Equal(2048u, spec.Resources.MemoryMib);
    }

    [Fact]
    public void Zero_cpus_are_rejected() => Assert.Equal("cpus must be greater than 0", Error(Base.Cpus(0)));

    [Fact]
    public void Zero_memory_is_rejected() => Assert.Equal("memory must be greater than 0", Error(Base.Memory(0)));

    [Fact]
    public void Log_level_and_quiet_logs()
    {
        Assert.Equal(SandboxLogLevel.Trace, Spec(Base.LogLevel(SandboxLogLevel.Trace)).Runtime.LogLevel);
        Assert.Null(Spec(Base.LogLevel(SandboxLogLevel.Debug).QuietLogs()).Runtime.LogLevel);
    }

    [Fact]
    public void Metrics_interval_in_milliseconds_and_zero_disables()
    {
        Assert.Equal(750ul, Spec(Base.MetricsSampleInterval(TimeSpan.FromMilliseconds(750))).Runtime.MetricsSampleIntervalMs);
        var zero = Base.MetricsSampleInterval(TimeSpan.Zero).Build();
        Assert.Null(zero.Spec.Runtime.MetricsSampleIntervalMs);
        Assert.Null(zero.EffectiveMetricsIntervalMs);
    }

    [Fact]
    public void Disable_metrics_sample_overrides_interval()
    {
        var config = Base.MetricsSampleInterval(TimeSpan.FromSeconds(2)).DisableMetricsSample().Build();
        Assert.True(config.Spec.Runtime.DisableMetricsSample);
        Assert.Equal(2000ul, config.Spec.Runtime.MetricsSampleIntervalMs);
        Assert.Null(config.EffectiveMetricsIntervalMs);
    }

    [Fact]
    public void Workdir_shell_hostname_user()
    {
        var runtime = Spec(Base.Workdir("/app").Shell("/bin/bash").Hostname("box").User("1000:1000")).Runtime;
        Assert.Equal("/app", runtime.Workdir);
        Assert.Equal("/bin/bash", runtime.Shell);
        Assert.Equal("box", runtime.Hostname);
        Assert.Equal("1000:1000", runtime.User);
    }

    [Fact]
    public void Hostname_rules()
    {
        Spec(Base.Hostname(new string('h', 64)));
        Assert.Equal("hostname is too long: 65 bytes (max 64)", Error(Base.Hostname(new string('h', 65))));
        Assert.Equal("hostname must not be empty", Error(Base.Hostname("")));
    }

    [Fact]
    public void Scripts_are_kept_by_name_and_last_wins()
    {
        var scripts = Spec(Base.Script("setup", "echo 1").Scripts([new("build", "make"), new("setup", "echo 2")])).Runtime.Scripts;
        Assert.Equal(["build", "setup"], scripts.Keys.ToArray());
        Assert.Equal("echo 2", scripts["setup"]);
    }

    [Theory]
    [InlineData("a/b", "script name \"a/b\" must be a single non-empty filename")]
    [InlineData("..", "script name \"..\" must be a single non-empty filename")]
    [InlineData("", "script name \"\" must be a single non-empty filename")]
    public void Script_names_must_be_file_names(string name, string expected)
    {
        Assert.Equal(expected, Error(Base.Script(name, "true")));
    }

    [Fact]
    public void Entrypoint_and_cmd_overrides_including_explicit_clear()
    {
        var runtime = Spec(Base.Entrypoint("python", "-u").Cmd("worker.py")).Runtime;
        Assert.Equal(["python", "-u"], runtime.Entrypoint);
        Assert.Equal(["worker.py"], runtime.Cmd);
        var cleared = Spec(Base.Cmd()).Runtime;
        Assert.NotNull(cleared.Cmd);
        Assert.Empty(cleared.Cmd);
        Assert.Null(cleared.Entrypoint);
    }

    [Fact]
    public void Command_tokens_are_checked()
    {
        Assert.Equal("entrypoint executable must not be empty", Error(Base.Entrypoint("", "x")));
        Assert.Equal("cmd executable must not be empty", Error(Base.Cmd("")));
        Assert.Equal("cmd token at index 1 contains a NUL byte", Error(Base.Cmd("sh", "a\0b")));
        Assert.Equal("entrypoint token at index 0 contains a NUL byte", Error(Base.Entrypoint("s\0h")));
    }

    [Fact]
    public void Init_and_init_with()
    {
        Assert.Equal(new HandoffInit { Cmd = "auto" }.Cmd, Spec(Base.Init("auto")).Init!.Cmd);
        var init = Spec(Base.Init("auto").InitWith("/lib/systemd/systemd", i => i
            .Args("--unit=multi-user.target").Arg("--log-level=info").Env("container", "microsandbox")
            .Envs([new("LANG", "C.UTF-8")]))).Init!;
        Assert.Equal("/lib/systemd/systemd", init.Cmd);
        Assert.Equal(["--unit=multi-user.target", "--log-level=info"], init.Args);
        Assert.Equal([("container", "microsandbox"), ("LANG", "C.UTF-8")], init.Env);
    }

    [Fact]
    public void Init_rules()
    {
        Assert.Equal("init cmd must be an absolute path or `auto`, got: \"sbin/init\"", Error(Base.Init("sbin/init")));
        Assert.Equal("init cmd is a guest (Linux) path and must not contain '\\' — use '/' separators: \"C:\\\\init\"",
            Error(Base.Init("C:\\init")));
        Assert.Equal("init cmd path must not contain a NUL byte: \"/init\\0\"", Error(Base.Init("/init\0")));
        Assert.Equal("init arg #1 must not contain a NUL byte", Error(Base.InitWith("/init", i => i.Args("ok", "b\0d"))));
        Assert.Equal("init env key must not be empty", Error(Base.InitWith("/init", i => i.Env("", "v"))));
        Assert.Equal("init env key \"BAD=KEY\" must not contain '='", Error(Base.InitWith("/init", i => i.Env("BAD=KEY", "v"))));
        Assert.Equal("init env key \"K\\0\" must not contain NUL", Error(Base.InitWith("/init", i => i.Env("K\0", "v"))));
        Assert.Equal("init env value for \"K\" must not contain NUL", Error(Base.InitWith("/init", i => i.Env("K", "v\0"))));
    }

    [Fact]
    public void Security_profile_is_recorded()
    {
        Assert.Equal(SecurityProfile.Restricted, Spec(Base.Security(SecurityProfile.Restricted)).SecurityProfile);
    }

    // ---- env, labels, rlimits ----

    [Fact]
    public void Env_appends_in_order()
    {
        var env = Spec(Base.Env("A", "1").Envs([new("B", "2"), new("A", "3")])).Env;
        Assert.Equal([new EnvVar("A", "1"), new EnvVar("B", "2"), new EnvVar("A", "3")], env);
    }

    [Fact]
    public void Env_rejects_the_reserved_prefix()
    {
        Assert.Equal("environment variable \"MSB_TOKEN\" uses the reserved MSB_ prefix", Error(Base.Env("MSB_TOKEN", "x")));
    }

    [Fact]
    public void Labels_are_sorted_and_last_wins()
    {
        var labels = Spec(Base.Label("team", "a").Labels([new("app", "x"), new("team", "b")])).Labels;
        Assert.Equal(["app", "team"], labels.Keys.ToArray());
        Assert.Equal("b", labels["team"]);
    }

    [Theory]
    [InlineData("", "label key must not be empty")]
    [InlineData("sandbox.id", "label key 'sandbox.id' uses reserved prefix 'sandbox.'")]
    [InlineData("microsandbox.x", "label key 'microsandbox.x' uses reserved prefix 'microsandbox.'")]
    [InlineData("service.name", "label key 'service.name' uses reserved prefix 'service.'")]
    public void Label_rules(string key, string expected) => Assert.Equal(expected, Error(Base.Label(key, "v")));

    [Fact]
    public void Rlimits_are_recorded()
    {
        var rlimits = Spec(Base.Rlimit(RlimitResource.Nofile, 65536).RlimitRange(RlimitResource.Nproc, 100, 200)).Rlimits;
        Assert.Equal(
            [
                new Rlimit { Resource = RlimitResource.Nofile, Soft = 65536, Hard = 65536 },
                new Rlimit { Resource = RlimitResource.Nproc, Soft = 100, Hard = 200 },
            ],
            rlimits);
    }

    [Fact]
    public void Rlimit_soft_must_not_exceed_hard()
    {
        Assert.Equal("rlimit nofile: soft (2048) must not exceed hard (1024)", Error(Base.RlimitRange(RlimitResource.Nofile, 2048, 1024)));
    }

    // ---- name ----

    [Fact]
    public void Name_rules()
    {
        Spec(new SandboxBuilder(new string('a', 128)).Image("a"));
        Assert.Equal("sandbox name is required", Error(new SandboxBuilder("").Image("a")));
        Assert.Equal("sandbox name must be at most 128 characters: got 129", Error(new SandboxBuilder(new string('a', 129)).Image("a")));
        Assert.Equal(
            "sandbox name must start with an alphanumeric and contain only alphanumeric, dots, hyphens, and underscores: -x",
            Error(new SandboxBuilder("-x").Image("a")));
        Assert.Equal(
            "sandbox name must start with an alphanumeric and contain only alphanumeric, dots, hyphens, and underscores: a b",
            Error(new SandboxBuilder("a b").Image("a")));
    }

    // ---- mounts and patches ----

    [Fact]
    public void Volumes_are_added_in_order()
    {
        var mounts = Spec(Base
            .Volume("/data", m => m.Bind("/srv/data").Readonly())
            .Volume("/cache", m => m.Named("cache"))
            .Volume("/scratch", m => m.Tmpfs().Size(100))
            .Volume("/disk", m => m.Disk("/images/d.raw"))).Mounts;
        Assert.Collection(mounts,
            m => Assert.True(Assert.IsType<VolumeMount.Bind>(m).Options.Readonly),
            m => Assert.Equal("cache", Assert.IsType<VolumeMount.Named>(m).Name),
            m => Assert.Equal(100u, Assert.IsType<VolumeMount.Tmpfs>(m).SizeMib),
            m => Assert.Equal(DiskImageFormat.Raw, Assert.IsType<VolumeMount.DiskImage>(m).Format));
    }

    [Fact]
    public void Mount_builder_errors_surface_at_build()
    {
        Assert.Equal(".size() is only valid for tmpfs mounts", Error(Base.Volume("/d", m => m.Bind("/h").Size(1))));
    }

    [Fact]
    public void Added_mounts_are_validated_at_build()
    {
        var bad = new VolumeMount.Tmpfs { Guest = "relative" };
        Assert.Equal("guest mount path must be absolute: relative", Error(Base.AddVolumeMount(bad)));
    }

    [Fact]
    public void Two_mounts_at_one_guest_path_are_rejected()
    {
        Assert.Equal("multiple volumes cannot mount the same guest path: /d",
            Error(Base.Volume("/d", m => m.Tmpfs()).Volume("/d", m => m.Bind("/h"))));
    }

    [Fact]
    public void Two_disk_mounts_of_one_image_are_rejected()
    {
        Assert.Equal("disk-image volumes cannot share the same host path: /images/d.raw",
            Error(Base.Volume("/a", m => m.Disk("/images/d.raw")).Volume("/b", m => m.Disk("/images/../images/d.raw").Readonly())));
    }

    [Fact]
    public void Patches_accumulate()
    {
        var patches = Spec(Base.Patch(p => p.Mkdir("/a")).AddPatch(new Patch.Remove { Path = "/b" }).Patch(p => p.Text("/c", "x"))).Patches;
        Assert.Equal(3, patches.Count);
        Assert.IsType<Patch.Remove>(patches[1]);
    }

    [Theory]
    [InlineData("etc/x", "patch path must be absolute: 'etc/x'")]
    [InlineData("/", "patch path must not be '/'")]
    [InlineData("/etc/../../x", "patch path escapes rootfs: '/etc/../../x'")]
    public void Patch_paths_are_checked(string path, string expected) => Assert.Equal(expected, Error(Base.Patch(p => p.Remove(path))));

    // ---- network ----

    [Fact]
    public void Ports_are_repeatable_with_protocol_and_bind()
    {
        var ports = Spec(Base.Port(8080, 80).PortUdp(5353, 53).PortBind(IPAddress.Any, 9000, 9000).PortUdpBind(IPAddress.IPv6Loopback, 1, 2)).Network.Ports;
        Assert.Equal(
            [
                new PublishedPortSpec { HostPort = 8080, GuestPort = 80, Protocol = PortProtocol.Tcp, HostBind = "127.0.0.1" },
                new PublishedPortSpec { HostPort = 5353, GuestPort = 53, Protocol = PortProtocol.Udp, HostBind = "127.0.0.1" },
                new PublishedPortSpec { HostPort = 9000, GuestPort = 9000, Protocol = PortProtocol.Tcp, HostBind = "0.0.0.0" },
                new PublishedPortSpec { HostPort = 1, GuestPort = 2, Protocol = PortProtocol.Udp, HostBind = "::1" },
            ],
            ports);
    }

    [Fact]
    public void Network_builder_sets_every_field()
    {
        using var policy = JsonDocument.Parse("""{"default_egress":"allow","default_ingress":"allow","rules":[]}""");
        using var doc = JsonDocument.Parse("""{"x":1}""");
        var network = Spec(Base.Network(n => n.Enabled(true).Port(1, 2).MaxConnections(64).TrustHostCas(true)
            .Policy(policy.RootElement).Dns(doc.RootElement).Tls(doc.RootElement).Secrets(doc.RootElement).Interface(doc.RootElement))).Network;
        Assert.True(network.Enabled);
        Assert.Single(network.Ports);
        Assert.Equal(64ul, network.MaxConnections);
        Assert.True(network.TrustHostCas);
        Assert.Equal("allow", network.Policy!.Value.GetProperty("default_egress").GetString());
        Assert.Equal(1, network.Dns!.Value.GetProperty("x").GetInt32());
        Assert.Equal(1, network.Tls!.Value.GetProperty("x").GetInt32());
        Assert.Equal(1, network.Secrets!.Value.GetProperty("x").GetInt32());
        Assert.Equal(1, network.Interface!.Value.GetProperty("x").GetInt32());
    }

    [Fact]
    public void Network_calls_compose_with_ports()
    {
        var network = Spec(Base.Port(1, 2).Network(n => n.Port(3, 4))).Network;
        Assert.Equal(2, network.Ports.Count);
    }

    [Fact]
    public void Max_connections_has_a_hard_limit()
    {
        Spec(Base.Network(n => n.MaxConnections(4096)));
        Assert.Equal("max_connections 4097 exceeds hard limit 4096", Error(Base.Network(n => n.MaxConnections(4097))));
    }

    [Fact]
    public void Disable_network_turns_it_off_with_a_deny_all_policy()
    {
        var network = Spec(Base.DisableNetwork()).Network;
        Assert.False(network.Enabled);
        Assert.Equal("deny", network.Policy!.Value.GetProperty("default_egress").GetString());
        Assert.Equal("deny", network.Policy!.Value.GetProperty("default_ingress").GetString());
        Assert.Equal(0, network.Policy!.Value.GetProperty("rules").GetArrayLength());
    }

    // ---- lifecycle ----

    [Fact]
    public void Lifecycle_policy_fields()
    {
        var lifecycle = Spec(Base.Ephemeral().MaxDuration(3600).IdleTimeout(120)).Lifecycle;
        Assert.Equal(new SandboxPolicy { Ephemeral = true, MaxDurationSecs = 3600, IdleTimeoutSecs = 120 }, lifecycle);
        var fromSpans = Spec(Base.Ephemeral(false).MaxDuration(TimeSpan.FromMinutes(2)).IdleTimeout(TimeSpan.FromSeconds(30.9))).Lifecycle;
        Assert.Equal(new SandboxPolicy { Ephemeral = false, MaxDurationSecs = 120, IdleTimeoutSecs = 30 }, fromSpans);
    }

    [Fact]
    public void Replace_sets_the_operation_flag()
    {
        var config = Base.Replace().Build();
        Assert.True(config.ReplaceExisting);
        Assert.Equal(TimeSpan.FromSeconds(10), config.ReplaceTimeout);
        var quick = Base.ReplaceWithTimeout(TimeSpan.Zero).Build();
        Assert.True(quick.ReplaceExisting);
        Assert.Equal(TimeSpan.Zero, quick.ReplaceTimeout);
    }

    [Fact]
    public void Negative_durations_are_programming_errors()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Base.ReplaceWithTimeout(TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Base.MaxDuration(TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Base.MetricsSampleInterval(TimeSpan.FromSeconds(-1)));
    }

    // ---- seeding and error order ----

    [Fact]
    public void From_spec_keeps_the_spec_and_allows_overrides()
    {
        var spec = new SandboxSpec { Name = "seeded", Image = RootfsSource.ForOci("a"), Resources = new SandboxResources { Cpus = 2 } };
        var config = SandboxBuilder.FromSpec(spec).Memory(1024).Build();
        Assert.Equal("seeded", config.Spec.Name);
        Assert.Equal(2, config.Spec.Resources.Cpus);
        Assert.Equal(1024u, config.Spec.Resources.MemoryMib);
    }

    [Fact]
    public void First_recorded_error_wins()
    {
        Assert.Equal("environment variable \"MSB_A\" uses the reserved MSB_ prefix",
            Error(Base.Env("MSB_A", "1").Volume("/d", m => m.Bind("/h").Size(1)).Cpus(0)));
    }

    [Fact]
    public void Build_is_repeatable()
    {
        var builder = Base.Env("A", "1");
        Assert.Equal(builder.Build(), builder.Build());
    }
}
