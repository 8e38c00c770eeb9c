using Microsandbox.Config;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Config;

/// <summary>
/// Ports of every <c>#[test]</c> in microsandbox 0.6.2 <c>sandbox/config.rs</c> (the config seed), same inputs
/// and expected results. Upstream mutates in place; our config is immutable, so each step returns the next config.
/// The two JSON tests live in <see cref="ConfigSeedJsonTests"/>.
/// </summary>
public class ConfigSeedTests
{
    private static readonly HandoffInit AutoInit = new() { Cmd = "auto" };

    private static readonly ImageConfig HermesImage = new()
    {
        Entrypoint = ["/init", "/opt/hermes/docker/main-wrapper.sh"],
    };

    private static SandboxConfig WithAutoInit() => new() { Spec = new SandboxSpec { Init = AutoInit } };

    [Fact]
    public void Merge_env_image_base_with_user_override()
    {
        var merged = SandboxConfig.MergeEnv(
            ["PATH=/usr/local/bin:/usr/bin", "PYTHON_VERSION=3.14"],
            [new EnvVar("PATH", "/custom/bin"), new EnvVar("MY_VAR", "hello")]);
        Assert.Equal([new EnvVar("PYTHON_VERSION", "3.14"), new EnvVar("PATH", "/custom/bin"), new EnvVar("MY_VAR", "hello")], merged);
    }

    [Fact]
    public void Merge_env_empty_user_inherits_image()
    {
        var merged = SandboxConfig.MergeEnv(["PATH=/usr/bin", "LANG=C.UTF-8"], []);
        Assert.Equal([new EnvVar("PATH", "/usr/bin"), new EnvVar("LANG", "C.UTF-8")], merged);
    }

    [Fact]
    public void Merge_env_empty_image_keeps_user()
    {
        var merged = SandboxConfig.MergeEnv([], [new EnvVar("MY_VAR", "val")]);
        Assert.Equal([new EnvVar("MY_VAR", "val")], merged);
    }

    [Fact]
    public void Merge_image_defaults_replace_fields()
    {
        var image = new ImageConfig { Cmd = ["python3"], Entrypoint = ["/entrypoint.sh"], WorkingDir = "/app", User = "appuser" };
        var config = new SandboxConfig().MergeImageDefaults(image);
        Assert.Equal(["python3"], config.Spec.Runtime.Cmd);
        Assert.Equal(["/entrypoint.sh"], config.Spec.Runtime.Entrypoint);
        Assert.Equal("/app", config.Spec.Runtime.Workdir);
        Assert.Equal("appuser", config.Spec.Runtime.User);
    }

    [Fact]
    public void Merge_image_defaults_user_overrides_take_precedence()
    {
        var image = new ImageConfig { Cmd = ["python3"], Entrypoint = ["/entrypoint.sh"], WorkingDir = "/app", User = "appuser" };
        var config = new SandboxConfig
        {
            Spec = new SandboxSpec { Runtime = new SandboxRuntimeOptions { Cmd = ["bash"], Workdir = "/workspace", User = "root" } },
        }.MergeImageDefaults(image);
        Assert.Equal(["bash"], config.Spec.Runtime.Cmd);
        Assert.Equal(["/entrypoint.sh"], config.Spec.Runtime.Entrypoint);
        Assert.Equal("/workspace", config.Spec.Runtime.Workdir);
        Assert.Equal("root", config.Spec.Runtime.User);
    }

    [Fact]
    public void Merge_image_defaults_resolves_auto_init_from_image_entrypoint()
    {
        var config = WithAutoInit().MergeImageDefaults(HermesImage);
        var init = config.Spec.Init!;
        Assert.Equal("/init", init.Cmd);
        Assert.Equal(["/opt/hermes/docker/main-wrapper.sh"], init.Args);
        Assert.Equal(["/opt/hermes/docker/main-wrapper.sh"], config.Spec.Runtime.Entrypoint);
    }

    [Fact]
    public void Merge_image_defaults_keeps_attached_command_out_of_init_entrypoint()
    {
        var config = WithAutoInit().WithInitialCommand(["gateway", "run"]).MergeImageDefaults(HermesImage);
        var init = config.Spec.Init!;
        Assert.Equal("/init", init.Cmd);
        Assert.Equal(["/opt/hermes/docker/main-wrapper.sh", "gateway", "run"], init.Args);
        Assert.Equal(["/opt/hermes/docker/main-wrapper.sh"], config.Spec.Runtime.Entrypoint);
    }

    [Fact]
    public void Merge_image_defaults_passes_effective_env_to_init_entrypoint()
    {
        var image = HermesImage with { Env = ["PATH=/image/bin:/usr/bin:/bin", "IMAGE_ONLY=1", "OVERRIDE=image"] };
        var config = new SandboxConfig
        {
            Spec = new SandboxSpec
            {
                Init = new HandoffInit { Cmd = "auto", Env = [("PATH", "/init/bin:/usr/bin:/bin"), ("INIT_ONLY", "1")] },
                Env = [new EnvVar("HERMES_DASHBOARD", "1"), new EnvVar("OVERRIDE", "user")],
            },
        }.WithInitialCommand(["gateway", "run"]).MergeImageDefaults(image);
        Assert.Equal(
            [
                ("IMAGE_ONLY", "1"),
                ("HERMES_DASHBOARD", "1"),
                ("OVERRIDE", "user"),
                ("PATH", "/init/bin:/usr/bin:/bin"),
                ("INIT_ONLY", "1"),
            ],
            config.Spec.Init!.Env);
    }

    [Fact]
    public void Merge_image_defaults_passes_detached_startup_cmd_to_init_args()
    {
        var config = WithAutoInit().WithPersistentInitialCommand(["gateway", "run"]).MergeImageDefaults(HermesImage);
        var init = config.Spec.Init!;
        Assert.Equal("/init", init.Cmd);
        Assert.Equal(["/opt/hermes/docker/main-wrapper.sh", "gateway", "run"], init.Args);
        Assert.Equal(["/opt/hermes/docker/main-wrapper.sh"], config.Spec.Runtime.Entrypoint);
        Assert.Equal(["gateway", "run"], config.Spec.Runtime.Cmd);
        Assert.False(config.StartupCommandRequested);
    }

    [Fact]
    public void Persistent_initial_command_sets_runtime_cmd()
    {
        var config = new SandboxConfig().WithPersistentInitialCommand(["/bin/sh", "-lc", "echo detached"]);
        Assert.Equal(["/bin/sh", "-lc", "echo detached"], config.Spec.Runtime.Cmd);
    }

    [Fact]
    public void Empty_persistent_initial_command_keeps_runtime_cmd()
    {
        var config = new SandboxConfig { Spec = new SandboxSpec { Runtime = new SandboxRuntimeOptions { Cmd = ["python3"] } } }
            .WithPersistentInitialCommand([]);
        Assert.Equal(["python3"], config.Spec.Runtime.Cmd);
    }

    [Fact]
    public void Clone_for_persistence_keeps_user_init_args()
    {
        var config = new SandboxConfig
        {
            Spec = new SandboxSpec { Init = new HandoffInit { Cmd = "/lib/systemd/systemd", Args = ["--unit=multi-user.target"] } },
        };
        Assert.Equal(["--unit=multi-user.target"], config.ForPersistence().Spec.Init!.Args);
    }

    [Fact]
    public void Clone_for_persistence_strips_named_volume_create_intent()
    {
        var config = new SandboxConfig
        {
            Spec = new SandboxSpec
            {
                Mounts =
                [
                    new VolumeMount.Named
                    {
                        Name = "cache",
                        Guest = "/cache",
                        Create = new NamedVolumeCreate
                        {
                            Mode = NamedVolumeMode.Create,
                            Name = "cache",
                            Kind = VolumeKind.Directory,
                            QuotaMib = 512,
                            CapacityMib = null,
                        },
                        Options = new MountOptions(),
                        StatVirtualization = StatVirtualization.Strict,
                        HostPermissions = HostPermissions.Private,
                    },
                ],
            },
        };
        var named = Assert.IsType<VolumeMount.Named>(config.ForPersistence().Spec.Mounts[0]);
        Assert.Equal("cache", named.Name);
        Assert.Null(named.Create);
    }

    [Fact]
    public void Merge_image_defaults_passes_image_cmd_to_init_args()
    {
        var image = new ImageConfig { Entrypoint = ["/init"], Cmd = ["/app/server", "--serve"] };
        var config = WithAutoInit().WithInitialCommand([]).MergeImageDefaults(image);
        var init = config.Spec.Init!;
        Assert.Equal("/init", init.Cmd);
        Assert.Equal(["/app/server", "--serve"], init.Args);
        Assert.Null(config.Spec.Runtime.Entrypoint);
        Assert.Equal(["/app/server", "--serve"], config.Spec.Runtime.Cmd);
    }

    [Fact]
    public void Merge_image_defaults_resolves_bare_systemd_init_entrypoint()
    {
        var image = new ImageConfig { Entrypoint = ["/lib/systemd/systemd"] };
        var config = WithAutoInit().WithInitialCommand(["bash"]).MergeImageDefaults(image);
        var init = config.Spec.Init!;
        Assert.Equal("/lib/systemd/systemd", init.Cmd);
        Assert.Equal(["bash"], init.Args);
        Assert.Null(config.Spec.Runtime.Entrypoint);
    }

    [Fact]
    public void Merge_image_defaults_keeps_user_entrypoint_when_resolving_auto_init()
    {
        var config = new SandboxConfig
        {
            Spec = new SandboxSpec { Runtime = new SandboxRuntimeOptions { Entrypoint = ["/bin/sh"] }, Init = AutoInit },
        }.WithInitialCommand(["gateway", "run"]).MergeImageDefaults(HermesImage);
        var init = config.Spec.Init!;
        Assert.Equal("/init", init.Cmd);
        Assert.Empty(init.Args);
        Assert.Equal(["/bin/sh"], config.Spec.Runtime.Entrypoint);
    }

    [Fact]
    public void Merge_image_defaults_leaves_auto_init_for_unknown_entrypoint()
    {
        var config = WithAutoInit().MergeImageDefaults(new ImageConfig { Entrypoint = ["/entrypoint.sh"] });
        Assert.Equal("auto", config.Spec.Init!.Cmd);
        Assert.Equal(["/entrypoint.sh"], config.Spec.Runtime.Entrypoint);
    }

    [Fact]
    public void Merge_image_defaults_imports_labels()
    {
        var image = new ImageConfig
        {
            Labels = new Dictionary<string, string>
            {
                ["org.opencontainers.image.source"] = "https://example.com/repo",
                ["vendor"] = "image-vendor",
                // Reserved prefix and empty key must be skipped.
                ["sandbox.id"] = "spoofed",
                [""] = "x",
            },
        };
        var config = new SandboxConfig
        {
            Spec = new SandboxSpec
            {
                Labels = new Dictionary<string, string>
                {
                    ["user.id"] = "alice",
                    // Collides with an image label; the user value must win.
                    ["vendor"] = "user-vendor",
                },
            },
        }.MergeImageDefaults(image);
        var labels = config.Spec.Labels;
        Assert.Equal("https://example.com/repo", labels["org.opencontainers.image.source"]);
        Assert.Equal("alice", labels["user.id"]);
        Assert.Equal("user-vendor", labels["vendor"]);
        Assert.False(labels.ContainsKey("sandbox.id"));
        Assert.False(labels.ContainsKey(""));
    }

    [Fact]
    public void Merge_image_defaults_empty_strings_treated_as_none()
    {
        var config = new SandboxConfig().MergeImageDefaults(new ImageConfig { WorkingDir = "", User = "" });
        Assert.Null(config.Spec.Runtime.Workdir);
        Assert.Null(config.Spec.Runtime.User);
    }

    [Fact]
    public void Sandbox_config_embeds_shared_spec()
    {
        var spec = new SandboxSpec
        {
            Name = "spec-test",
            Image = RootfsSource.ForOci("python:3.12"),
            Resources = new SandboxResources { Cpus = 2, MemoryMib = 1024 },
            Runtime = new SandboxRuntimeOptions
            {
                Workdir = "/app",
                Shell = "/bin/bash",
                Scripts = new Dictionary<string, string> { ["setup"] = "echo hi" },
                Entrypoint = ["python", "-u"],
                Cmd = ["worker.py"],
                Hostname = "worker",
                User = "appuser",
                LogLevel = SandboxLogLevel.Trace,
                MetricsSampleIntervalMs = 750,
                DisableMetricsSample = true,
            },
            Env = [new EnvVar("A", "B")],
            Labels = new Dictionary<string, string> { ["team"] = "infra" },
            Rlimits = [new Rlimit { Resource = RlimitResource.Nofile, Soft = 1024, Hard = 2048 }],
            SecurityProfile = SecurityProfile.Restricted,
            Lifecycle = new SandboxPolicy { Ephemeral = false, MaxDurationSecs = 3600, IdleTimeoutSecs = 120 },
        };
        var config = new SandboxConfig { Spec = spec };
        Assert.Equal("spec-test", config.Spec.Name);
        Assert.Equal("python:3.12", Assert.IsType<RootfsSource.Oci>(config.Spec.Image).Source.Reference);
        Assert.Equal(2, config.Spec.Resources.Cpus);
        Assert.Equal(1024u, config.Spec.Resources.MemoryMib);
        Assert.Equal(SandboxLogLevel.Trace, config.Spec.Runtime.LogLevel);
        Assert.Equal(750ul, config.Spec.Runtime.MetricsSampleIntervalMs);
        Assert.True(config.Spec.Runtime.DisableMetricsSample);
        Assert.Equal("/app", config.Spec.Runtime.Workdir);
        Assert.Equal("/bin/bash", config.Spec.Runtime.Shell);
        Assert.Equal("echo hi", config.Spec.Runtime.Scripts["setup"]);
        Assert.Equal([new EnvVar("A", "B")], config.Spec.Env);
        Assert.Equal("infra", config.Spec.Labels["team"]);
        Assert.Single(config.Spec.Rlimits);
        Assert.Equal(["python", "-u"], config.Spec.Runtime.Entrypoint);
        Assert.Equal(["worker.py"], config.Spec.Runtime.Cmd);
        Assert.Equal("worker", config.Spec.Runtime.Hostname);
        Assert.Equal("appuser", config.Spec.Runtime.User);
        Assert.Equal(SecurityProfile.Restricted, config.Spec.SecurityProfile);
        Assert.Equal(3600ul, config.Spec.Lifecycle.MaxDurationSecs);
        Assert.Equal(120ul, config.Spec.Lifecycle.IdleTimeoutSecs);
    }

    [Fact]
    public void Apply_runtime_defaults_adds_tmpfs_for_oci_tmp()
    {
        var config = new SandboxConfig
        {
            Spec = new SandboxSpec { Image = RootfsSource.ForOci("python:3.12"), Resources = new SandboxResources { MemoryMib = 2048 } },
        }.WithRuntimeDefaults();
        var tmpfs = Assert.IsType<VolumeMount.Tmpfs>(Assert.Single(config.Spec.Mounts));
        Assert.Equal("/tmp", tmpfs.Guest);
        Assert.Equal(512u, tmpfs.SizeMib);
        Assert.Equal(new MountOptions(), tmpfs.Options);
    }

    [Fact]
    public void Apply_rootfs_defaults_sets_oci_upper_size()
    {
        var config = new SandboxConfig { Spec = new SandboxSpec { Image = RootfsSource.ForOci("python:3.12") } }.WithRootfsDefaults(null);
        Assert.Equal(4096u, config.Spec.Image.OciUpperSizeMib);
    }

    [Fact]
    public void Apply_rootfs_defaults_uses_backend_oci_upper_size()
    {
        var config = new SandboxConfig { Spec = new SandboxSpec { Image = RootfsSource.ForOci("python:3.12") } }.WithRootfsDefaults(8192);
        Assert.Equal(8192u, config.Spec.Image.OciUpperSizeMib);
    }

    [Fact]
    public void Apply_rootfs_defaults_skips_snapshot_upper_source()
    {
        var config = new SandboxConfig
        {
            Spec = new SandboxSpec { Image = RootfsSource.ForOci("python:3.12") },
            SnapshotUpperSource = "/tmp/upper.ext4",
        }.WithRootfsDefaults(8192);
        Assert.Null(config.Spec.Image.OciUpperSizeMib);
    }

    [Fact]
    public void Apply_runtime_defaults_preserves_explicit_tmp_mount()
    {
        var config = new SandboxConfig
        {
            Spec = new SandboxSpec
            {
                Image = RootfsSource.ForOci("python:3.12"),
                Mounts =
                [
                    new VolumeMount.Bind
                    {
                        Host = "/host/tmp",
                        Guest = "/tmp/",
                        Options = new MountOptions(),
                        StatVirtualization = StatVirtualization.Strict,
                        HostPermissions = HostPermissions.Private,
                        QuotaMib = null,
                    },
                ],
            },
        }.WithRuntimeDefaults();
        Assert.Equal("/tmp/", Assert.IsType<VolumeMount.Bind>(Assert.Single(config.Spec.Mounts)).Guest);
    }

    [Fact]
    public void Apply_runtime_defaults_skips_non_oci_roots()
    {
        var config = new SandboxConfig { Spec = new SandboxSpec { Image = new RootfsSource.Bind("/tmp/rootfs") } }.WithRuntimeDefaults();
        Assert.Empty(config.Spec.Mounts);
    }

    [Fact]
    public void Apply_runtime_defaults_skips_disk_image_roots()
    {
        // Disk-image roots ship their own /tmp, so no implicit tmpfs is synthesised for them.
        var config = new SandboxConfig
        {
            Spec = new SandboxSpec
            {
                Image = new RootfsSource.DiskImage { Path = "/tmp/disk.qcow2", Format = DiskImageFormat.Qcow2, Fstype = null },
            },
        }.WithRuntimeDefaults();
        Assert.Empty(config.Spec.Mounts);
    }
}
