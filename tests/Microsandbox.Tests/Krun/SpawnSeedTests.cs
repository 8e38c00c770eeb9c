using System.Text.Json.Nodes;
using Microsandbox.Config;
using Microsandbox.Engines.Krun;
using Microsandbox.Host;
using Microsandbox.Runtime;
using Microsandbox.Spawn;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Krun;

/// <summary>
/// The spawn tests of seed microsandbox-0.5.10 <c>runtime/spawn.rs</c>, brought to the 0.6.18 contract: what the
/// seed read from <c>--flag value</c> pairs and <c>MSB_*</c> env strings is now read from the argv of
/// <see cref="SandboxLaunchRequest.BuildArgv"/> and the JSON launch config of <see cref="LaunchPlanner.Plan(SandboxSpec,int,MicrosandboxHome)"/>
/// (bootstrap document included). Each test names its seed test; docs/compat.md lists the seed tests that do not apply.
/// </summary>
public sealed class SpawnSeedTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("msbseed-").FullName;
    private readonly MicrosandboxHome _home;
    private readonly string _rootfs;

    public SpawnSeedTests()
    {
        _home = new MicrosandboxHome(Path.Combine(_root, "home"));
        _rootfs = Directory.CreateDirectory(Path.Combine(_root, "rootfs")).FullName;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private SandboxBuilder Builder(string name = "test") => new SandboxBuilder(name).Image(ImageSource.FromPath(_rootfs));

    private LaunchConfig Plan(SandboxConfig config, IReadOnlyDictionary<string, ResolvedNamedVolume>? named = null) =>
        LaunchPlanner.Plan(config.WithDefaults().Spec, 42, _home, named);

    private SandboxLaunchRequest Request(SandboxConfig config, SpawnMode mode = SpawnMode.Attached)
    {
        var spec = config.WithDefaults().Spec;
        var level = spec.Runtime.LogLevel is { } l ? "--" + l.ToString().ToLowerInvariant() : null;
        return new SandboxLaunchRequest(["/usr/bin/msb"], _home, spec.Name, 42, spec.Resources.Cpus, (int)spec.Resources.MemoryMib, Plan(config), mode, level);
    }

    private static JsonObject Bootstrap(LaunchConfig launch) => launch.Bootstrap;

    private string File(string name, string content = "x")
    {
        var path = Path.Combine(_root, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    private string Dir(string name) => Directory.CreateDirectory(Path.Combine(_root, name)).FullName;

    // ---- fd plumbing ----------------------------------------------------------------------------------------------

    private static readonly IReadOnlySet<int> ContractFds = new HashSet<int>
    {
        SandboxProcessContract.ConfigFd, SandboxProcessContract.ParentWatchFd, SandboxProcessContract.StartupFd, SandboxProcessContract.LifecycleLockFd,
    };

    [Fact] // test_inherited_fd_source_needs_spare_for_cross_reserved_fd
    public void Inherited_fd_source_needs_a_spare_when_it_sits_on_another_reserved_fd()
    {
        Assert.True(ChildProcess.SourceNeedsSpare(SandboxProcessContract.ConfigFd, SandboxProcessContract.ParentWatchFd, ContractFds));
        Assert.True(ChildProcess.SourceNeedsSpare(SandboxProcessContract.ParentWatchFd, SandboxProcessContract.StartupFd, ContractFds));
    }

    [Fact] // test_inherited_fd_source_keeps_own_reserved_fd_in_place
    public void Inherited_fd_source_on_its_own_reserved_fd_stays_in_place()
    {
        Assert.False(ChildProcess.SourceNeedsSpare(SandboxProcessContract.ConfigFd, SandboxProcessContract.ConfigFd, ContractFds));
        Assert.False(ChildProcess.SourceNeedsSpare(SandboxProcessContract.ParentWatchFd, SandboxProcessContract.ParentWatchFd, ContractFds));
    }

    [Fact] // test_inherited_fd_source_leaves_ordinary_fd_in_place
    public void Inherited_fd_source_on_an_ordinary_fd_stays_in_place() =>
        Assert.False(ChildProcess.SourceNeedsSpare(42, SandboxProcessContract.ConfigFd, ContractFds));

    // ---- argv -----------------------------------------------------------------------------------------------------

    [Fact] // test_sandbox_cli_args_include_selected_log_level
    public void Argv_includes_the_selected_log_level() =>
        Assert.Contains("--debug", Request(Builder().LogLevel(SandboxLogLevel.Debug).Build()).BuildArgv());

    [Fact] // test_sandbox_cli_args_are_silent_by_default
    public void Argv_is_silent_by_default()
    {
        var argv = Request(Builder().Build()).BuildArgv();
        Assert.DoesNotContain(argv, a => a is "--error" or "--warn" or "--info" or "--debug" or "--trace" or "--log-level");
    }

    [Fact] // test_sandbox_cli_args_include_agent_sock_path
    public void Launch_config_carries_the_agent_socket_path()
    {
        var launch = Plan(Builder().Build());
        Assert.Equal(_home.AgentSocketPath("test"), launch.AgentSock);
        Assert.Equal(Path.Combine(_home.RunDirectory, "sandboxes", MicrosandboxHome.NameHash("test", 12), "agent.sock"), launch.AgentSock);
    }

    [Fact] // test_sandbox_cli_args_include_startup_fd_when_supplied
    public void Detached_argv_names_the_startup_fd()
    {
        var argv = Request(Builder().Build(), SpawnMode.Detached).BuildArgv();
        int i = argv.ToList().IndexOf("--startup-fd");
        Assert.True(i > 0);
        Assert.Equal(SandboxProcessContract.StartupFd.ToString(System.Globalization.CultureInfo.InvariantCulture), argv[i + 1]);
        Assert.DoesNotContain("--parent-watch-fd", argv);
    }

    [Fact] // test_sandbox_cli_args_skip_startup_exec_when_init_owns_argv (0.6: handoff_init in the bootstrap, no startup command)
    public void Handoff_init_owns_argv_and_no_startup_command_is_sent()
    {
        var launch = Plan(Builder().Workdir("/opt/hermes").InitWith("/init", i => i.Args("/opt/hermes/docker/main-wrapper.sh", "gateway", "run")).Build());
        var init = Bootstrap(launch)["handoff_init"]!.AsObject();
        Assert.Equal("/init", (string?)init["cmd"]);
        Assert.Equal(["/opt/hermes/docker/main-wrapper.sh", "gateway", "run"], init["args"]!.AsArray().Select(a => (string?)a));
        Assert.Equal("/opt/hermes", (string?)init["cwd"]);
        Assert.Null(launch.Startup);
        Assert.Null(launch.ExecPath);
        Assert.Empty(launch.ExecArgs);
    }

    [Fact] // test_agent_socket_candidates_follow_explicit_local_backend_paths
    public void Agent_socket_candidates_follow_the_home()
    {
        var candidates = AgentSocketPaths.Candidates(_home, "sdk-socket-test");
        Assert.Equal(3, candidates.Count);
        Assert.StartsWith(Path.Combine(_home.RunDirectory, "sandboxes") + "/", candidates[0], StringComparison.Ordinal);
        Assert.StartsWith(Path.Combine(_home.RunDirectory, "agent") + "/", candidates[1], StringComparison.Ordinal);
        Assert.Equal(Path.Combine(_home.SandboxesDirectory, "sdk-socket-test", "runtime", "agent.sock"), candidates[2]);
    }

    [Fact] // test_agent_socket_resolution_uses_explicit_local_backend_paths
    public void Agent_socket_resolution_uses_the_canonical_path_under_the_home()
    {
        Assert.Equal(_home.AgentSocketPath("sdk-socket-test"), AgentSocketPaths.ResolveForNewSandbox(_home, "sdk-socket-test"));
        // A client finds a legacy socket when only that exists.
        var legacy = AgentSocketPaths.Candidates(_home, "old")[1];
        Directory.CreateDirectory(Path.GetDirectoryName(legacy)!);
        System.IO.File.WriteAllText(legacy, "");
        Assert.Equal(legacy, AgentSocketPaths.ResolveExisting(_home, "old"));
        var deep = new MicrosandboxHome(Path.Combine(_root, new string('d', 120)));
        var e = Assert.Throws<MicrosandboxException>(() => AgentSocketPaths.ResolveForNewSandbox(deep, "x"));
        Assert.Contains("Unix socket path is too long", e.Message, StringComparison.Ordinal);
    }

    [Fact] // test_sandbox_cli_args_include_rlimits_env (0.6: bootstrap.rlimits)
    public void Rlimits_travel_in_the_bootstrap()
    {
        var rlimits = Bootstrap(Plan(Builder().Rlimit(RlimitResource.Nofile, 65_535).Build()))["rlimits"]!.AsArray();
        var only = Assert.Single(rlimits)!.AsObject();
        Assert.Equal("nofile", (string?)only["resource"]);
        Assert.Equal(65_535UL, (ulong?)only["soft"]);
        Assert.Equal(65_535UL, (ulong?)only["hard"]);
    }

    [Fact] // test_visible_args_keep_labels_and_omit_bulk
    public void Visible_argv_keeps_labels_and_the_config_fd_carries_the_bulk()
    {
        var config = Builder().Env("TOKEN", "secret").Build();
        var request = Request(config);
        var argv = request.BuildArgv();
        Assert.Equal("sandbox", argv[1]);
        Assert.Equal("test", argv[argv.ToList().IndexOf("--name") + 1]);
        Assert.Contains("--vcpus", argv);
        Assert.Contains("--memory-mib", argv);
        foreach (var flag in new[] { "--env", "--db-path", "--log-dir", "--agent-sock" }) Assert.DoesNotContain(flag, argv);
        Assert.DoesNotContain(argv, a => a.Contains("TOKEN=secret", StringComparison.Ordinal) || a.Contains("secret", StringComparison.Ordinal));
        var json = request.Launch.ToJson();
        Assert.Contains("\"db_path\":", json, StringComparison.Ordinal);
        var env = Bootstrap(request.Launch)["default_env"]!.AsArray().Select(e => ((string?)e!["key"], (string?)e!["value"]));
        Assert.Contains(("TOKEN", "secret"), env);
    }

    [Fact] // test_encode_rlimits_round_trips_through_protocol_parser (0.6: JSON objects, read back through the launch config reader)
    public void Rlimits_round_trip_through_the_launch_config_reader()
    {
        var launch = Plan(Builder().RlimitRange(RlimitResource.Nofile, 4096, 65_535).RlimitRange(RlimitResource.Nproc, 1024, 1024).Build());
        var read = LaunchConfig.FromJson(System.Text.Encoding.UTF8.GetBytes(launch.ToJson()));
        var parsed = read.Bootstrap["rlimits"]!.AsArray().Select(r => ((string?)r!["resource"], (ulong?)r["soft"], (ulong?)r["hard"])).ToList();
        Assert.Equal([("nofile", 4096UL, 65_535UL), ("nproc", 1024UL, 1024UL)], parsed);
    }

    // ---- metrics, db, rootfs --------------------------------------------------------------------------------------

    [Fact] // test_sandbox_cli_args_emit_metrics_interval_flag
    public void Metrics_interval_travels_in_the_launch_config()
    {
        var metrics = Plan(Builder().MetricsSampleInterval(TimeSpan.FromMilliseconds(1000)).Build()).Metrics;
        Assert.False(metrics.Disabled);
        Assert.Equal(1000UL, metrics.SampleIntervalMs);
    }

    [Fact] // test_sandbox_cli_args_include_custom_metrics_sample_interval
    public void Custom_metrics_interval_travels_in_the_launch_config()
    {
        var metrics = Plan(Builder().MetricsSampleInterval(TimeSpan.FromMilliseconds(2500)).Build()).Metrics;
        Assert.False(metrics.Disabled);
        Assert.Equal(2500UL, metrics.SampleIntervalMs);
    }

    [Fact] // test_sandbox_cli_args_disabled_metrics_emit_disable_flag
    public void Zero_metrics_interval_disables_sampling()
    {
        var metrics = Plan(Builder().MetricsSampleInterval(TimeSpan.Zero).Build()).Metrics;
        Assert.True(metrics.Disabled);
        Assert.Equal(0UL, metrics.SampleIntervalMs);
    }

    [Fact] // test_sandbox_cli_args_disable_overrides_positive_interval
    public void Disable_wins_over_a_positive_interval()
    {
        var metrics = Plan(Builder().MetricsSampleInterval(TimeSpan.FromMilliseconds(2500)).DisableMetricsSample().Build()).Metrics;
        Assert.True(metrics.Disabled);
        Assert.Equal(0UL, metrics.SampleIntervalMs);
    }

    [Fact] // test_sandbox_cli_args_include_db_connect_timeout
    public void Launch_config_carries_the_db_connect_timeout()
    {
        var launch = Plan(Builder().Build());
        Assert.Equal(30UL, launch.DbConnectTimeoutSecs);
        Assert.Equal(_home.DatabasePath, launch.DbPath);
    }

    [Fact] // test_sandbox_cli_args_use_passthrough_for_bind_rootfs
    public void Bind_rootfs_is_a_passthrough_path()
    {
        var rootfs = Plan(Builder().Build()).Rootfs;
        Assert.Equal(_rootfs, rootfs.Path);
        Assert.Null(rootfs.Disk);
        Assert.Null(rootfs.Upper);
    }

    // ---- tmpfs ----------------------------------------------------------------------------------------------------

    [Fact] // test_sandbox_cli_args_inject_tmpfs_env_var (0.6: bootstrap.tmpfs_mounts)
    public void Tmpfs_mounts_travel_in_the_bootstrap()
    {
        var tmpfs = Bootstrap(Plan(Builder().Volume("/tmp", m => m.Tmpfs().Size(256)).Volume("/var/tmp", m => m.Tmpfs()).Build()))["tmpfs_mounts"]!.AsArray();
        Assert.Equal(2, tmpfs.Count);
        Assert.Equal("/tmp", (string?)tmpfs[0]!["path"]);
        Assert.Equal(256U, (uint?)tmpfs[0]!["size_mib"]);
        Assert.Equal("/var/tmp", (string?)tmpfs[1]!["path"]);
        Assert.Null(tmpfs[1]!["size_mib"]);
    }

    [Fact] // test_sandbox_cli_args_tmpfs_readonly_appends_ro
    public void Readonly_tmpfs_sets_the_readonly_flag()
    {
        var t = Assert.Single(Bootstrap(Plan(Builder().Volume("/seed", m => m.Tmpfs().Size(64).Readonly()).Build()))["tmpfs_mounts"]!.AsArray())!;
        Assert.Equal("/seed", (string?)t["path"]);
        Assert.Equal(64U, (uint?)t["size_mib"]);
        Assert.True((bool?)t["flags"]!["readonly"]);
    }

    [Fact] // test_sandbox_cli_args_omit_tmpfs_env_var_when_no_tmpfs
    public void No_tmpfs_means_no_tmpfs_section() =>
        Assert.False(Bootstrap(Plan(Builder().Build())).ContainsKey("tmpfs_mounts"));

    // ---- disk-image rootfs ----------------------------------------------------------------------------------------

    [Fact] // test_sandbox_cli_args_disk_image_with_fstype
    public void Disk_image_rootfs_with_fstype()
    {
        var disk = File("ubuntu.qcow2");
        var launch = Plan(new SandboxBuilder("test").Image(i => i.Disk(disk).Fstype("ext4")).Build());
        Assert.Equal(disk, launch.Rootfs.Disk);
        Assert.Equal("qcow2", launch.Rootfs.DiskFormat);
        Assert.Null(launch.Rootfs.Path);
        var root = Bootstrap(launch)["block_root"]!.AsObject();
        Assert.Equal("disk-image", (string?)root["kind"]);
        Assert.Equal("/dev/vda", (string?)root["device"]);
        Assert.Equal("ext4", (string?)root["fstype"]);
    }

    [Fact] // test_sandbox_cli_args_disk_image_without_fstype
    public void Disk_image_rootfs_without_fstype()
    {
        var disk = File("alpine.raw");
        var launch = Plan(new SandboxBuilder("test").Image(i => i.Disk(disk)).Build());
        Assert.Equal(disk, launch.Rootfs.Disk);
        Assert.Equal("raw", launch.Rootfs.DiskFormat);
        Assert.Null(launch.Rootfs.Path);
        var root = Bootstrap(launch)["block_root"]!.AsObject();
        Assert.Equal(["kind", "device"], root.Select(kv => kv.Key));
    }

    // ---- file and directory binds ---------------------------------------------------------------------------------

    [Fact] // test_sandbox_cli_args_file_mount_generates_correct_args
    public void File_bind_is_staged_and_shared_as_its_own_directory()
    {
        var host = File("config.txt", "hello");
        var launch = Plan(Builder().Volume("/guest/config.txt", m => m.Bind(host).Readonly().Noexec()).Build());
        var tag = FileMountStaging.Tag("/guest/config.txt");
        var share = Assert.Single(launch.Mounts);
        var parsed = LaunchMountArgument.ParseDirectory(share);
        Assert.Equal(tag, parsed.Tag);
        Assert.StartsWith(tag + ":", share, StringComparison.Ordinal);
        Assert.EndsWith(":ro,noexec", share, StringComparison.Ordinal);
        Assert.Equal("hello", System.IO.File.ReadAllText(Path.Combine(parsed.HostPath, "config.txt")));
        Assert.Equal(new FileInfo(host).Length, new FileInfo(Path.Combine(parsed.HostPath, "config.txt")).Length);
        var fm = Assert.Single(Bootstrap(launch)["file_mounts"]!.AsArray())!;
        Assert.Equal(tag, (string?)fm["tag"]);
        Assert.Equal("config.txt", (string?)fm["filename"]);
        Assert.Equal("/guest/config.txt", (string?)fm["guest_path"]);
        Assert.True((bool?)fm["flags"]!["readonly"]);
        Assert.True((bool?)fm["flags"]!["noexec"]);
        Assert.False(Bootstrap(launch).ContainsKey("dir_mounts"));
        // A hard link: a host-side write is what the guest reads.
        System.IO.File.WriteAllText(host, "changed");
        Assert.Equal("changed", System.IO.File.ReadAllText(Path.Combine(parsed.HostPath, "config.txt")));
    }

    [Fact] // test_sandbox_cli_args_mixed_file_and_dir_mounts
    public void File_and_directory_binds_go_to_their_own_sections()
    {
        var data = Dir("data");
        var file = File("file.txt");
        var bootstrap = Bootstrap(Plan(Builder().Volume("/data", m => m.Bind(data)).Volume("/guest/file.txt", m => m.Bind(file)).Build()));
        var dir = Assert.Single(bootstrap["dir_mounts"]!.AsArray())!;
        Assert.Equal(GuestNames.MountTag("/data"), (string?)dir["tag"]);
        Assert.Equal("/data", (string?)dir["guest_path"]);
        var fm = Assert.Single(bootstrap["file_mounts"]!.AsArray())!;
        Assert.Equal("file.txt", (string?)fm["filename"]);
        Assert.Equal("/guest/file.txt", (string?)fm["guest_path"]);
        Assert.Equal(["dir_mounts", "file_mounts"], bootstrap.Select(kv => kv.Key).Where(k => k.EndsWith("_mounts", StringComparison.Ordinal)));
    }

    [Fact] // test_sandbox_cli_args_bind_mount_gets_default_quota
    public void Bind_mount_gets_the_default_quota()
    {
        var data = Dir("data");
        var share = Assert.Single(Plan(Builder().Volume("/data", m => m.Bind(data)).Build()).Mounts);
        Assert.Equal($"{GuestNames.MountTag("/data")}:{data}:quota=4096", share);
    }

    [Fact] // test_sandbox_cli_args_bind_mount_quota_override
    public void Bind_mount_quota_override()
    {
        var data = Dir("data");
        var share = Assert.Single(Plan(Builder().Volume("/data", m => m.Bind(data).Quota(2048)).Build()).Mounts);
        Assert.Equal($"{GuestNames.MountTag("/data")}:{data}:quota=2048", share);
    }

    // ---- named volumes (rendering) --------------------------------------------------------------------------------

    [Fact] // test_sandbox_cli_args_named_disk_volume
    public void Named_disk_volume_is_a_block_device_not_a_share()
    {
        var config = Builder().Volume("/var/lib/docker", m => m.NamedWith("docker-data", v => v.Disk().Size(2048).EnsureExists())).Build();
        var raw = Path.Combine(_root, "docker-data", "disk.raw");
        var launch = Plan(config, new Dictionary<string, ResolvedNamedVolume> { ["docker-data"] = new(VolumeKind.Disk, raw, DiskImageFormat.Raw, "ext4") });
        var tag = GuestNames.MountTag("/var/lib/docker");
        Assert.Equal([$"{tag}:{raw}:raw"], launch.Disks);
        var dm = Assert.Single(Bootstrap(launch)["disk_mounts"]!.AsArray())!;
        Assert.Equal(tag, (string?)dm["id"]);
        Assert.Equal("/var/lib/docker", (string?)dm["guest_path"]);
        Assert.Equal("ext4", (string?)dm["fstype"]);
        Assert.Empty(launch.Mounts);
        Assert.False(Bootstrap(launch).ContainsKey("dir_mounts"));
    }

    [Fact] // test_sandbox_cli_args_named_directory_volume
    public void Named_directory_volume_is_a_share_with_its_quota()
    {
        var config = Builder().Volume("/data", m => m.NamedWith("mydir", v => v.Quota(512).EnsureExists())).Build();
        var launch = Plan(config, new Dictionary<string, ResolvedNamedVolume> { ["mydir"] = new(VolumeKind.Directory, "/tmp/mydir", QuotaMib: 512) });
        var tag = GuestNames.MountTag("/data");
        Assert.Equal([$"{tag}:/tmp/mydir:quota=512"], launch.Mounts);
        var dir = Assert.Single(Bootstrap(launch)["dir_mounts"]!.AsArray())!;
        Assert.Equal("/data", (string?)dir["guest_path"]);
        Assert.Empty(launch.Disks);
        Assert.False(Bootstrap(launch).ContainsKey("disk_mounts"));
    }

    // ---- disk-image volumes ---------------------------------------------------------------------------------------

    [Fact] // test_sandbox_cli_args_disk_image_volume
    public void Disk_image_volume_with_format_and_fstype()
    {
        var host = File("data.qcow2");
        var launch = Plan(Builder().Volume("/data", m => m.Disk(host).Format(DiskImageFormat.Qcow2).Fstype("ext4")).Build());
        var tag = GuestNames.MountTag("/data");
        Assert.Equal([$"{tag}:{host}:qcow2"], launch.Disks);
        var dm = Assert.Single(Bootstrap(launch)["disk_mounts"]!.AsArray())!;
        Assert.Equal("/data", (string?)dm["guest_path"]);
        Assert.Equal("ext4", (string?)dm["fstype"]);
    }

    [Fact] // test_sandbox_cli_args_disk_image_readonly
    public void Readonly_disk_image_volume()
    {
        var host = File("seed.raw");
        var launch = Plan(Builder().Volume("/seed", m => m.Disk(host).Readonly().Noexec()).Build());
        var tag = GuestNames.MountTag("/seed");
        Assert.Equal([$"{tag}:{host}:raw:ro"], launch.Disks);
        var flags = Assert.Single(Bootstrap(launch)["disk_mounts"]!.AsArray())!["flags"]!;
        Assert.True((bool?)flags["readonly"]);
        Assert.True((bool?)flags["noexec"]);
    }

    // ---- guest mount tags -----------------------------------------------------------------------------------------

    [Fact] // test_guest_mount_tag_is_deterministic
    public void Guest_mount_tag_is_deterministic() => Assert.Equal(GuestNames.MountTag("/data"), GuestNames.MountTag("/data"));

    [Fact] // test_guest_mount_tag_disambiguates_colliding_paths
    public void Guest_mount_tag_disambiguates_colliding_paths()
    {
        var a = GuestNames.MountTag("/var/log");
        var b = GuestNames.MountTag("/var_log");
        Assert.NotEqual(a, b);
        Assert.StartsWith("var_log_", a, StringComparison.Ordinal);
        Assert.StartsWith("var_log_", b, StringComparison.Ordinal);
    }

    [Fact] // test_guest_mount_tag_fits_virtio_blk_serial_limit
    public void Guest_mount_tag_fits_the_virtio_blk_serial_limit() =>
        Assert.True(GuestNames.MountTag("/a/very/deeply/nested/guest/mount/point/that/exceeds/the/slug/cap").Length <= 20);

    [Fact] // test_guest_mount_tag_slug_prefix_is_readable
    public void Guest_mount_tag_slug_prefix_is_readable()
    {
        Assert.StartsWith("data_", GuestNames.MountTag("/data"), StringComparison.Ordinal);
        Assert.StartsWith("var_log_", GuestNames.MountTag("/var/log"), StringComparison.Ordinal);
    }

    // ---- handoff init (0.6: bootstrap.handoff_init instead of MSB_HANDOFF_INIT* env strings) ------------------------

    [Fact] // test_handoff_init_emits_only_cmd_when_args_and_env_empty
    public void Handoff_init_has_only_cmd_when_args_and_env_are_empty()
    {
        var init = Bootstrap(Plan(Builder().Init("/lib/systemd/systemd").Build()))["handoff_init"]!.AsObject();
        Assert.Equal(["cmd"], init.Select(kv => kv.Key));
        Assert.Equal("/lib/systemd/systemd", (string?)init["cmd"]);
    }

    [Fact] // test_handoff_init_emits_cwd_when_workdir_set
    public void Handoff_init_has_cwd_when_workdir_is_set() =>
        Assert.Equal("/opt/hermes", (string?)Bootstrap(Plan(Builder().Init("/init").Workdir("/opt/hermes").Build()))["handoff_init"]!["cwd"]);

    [Fact] // test_handoff_init_encodes_argv_as_base64url_json (0.6: a JSON array, no base64 layer)
    public void Handoff_init_args_are_a_json_array()
    {
        var init = Bootstrap(Plan(Builder().InitWith("/lib/systemd/systemd", i => i.Args("--unit=multi-user.target", "--log-level=warning", "literal\x1funit-separator")).Build()))["handoff_init"]!;
        Assert.Equal(["--unit=multi-user.target", "--log-level=warning", "literal\x1funit-separator"], init["args"]!.AsArray().Select(a => (string?)a));
    }

    [Fact] // test_handoff_init_encodes_env_pairs_as_base64url_json
    public void Handoff_init_env_is_a_json_array_of_pairs()
    {
        var init = Bootstrap(Plan(Builder().InitWith("/sbin/init", i => i.Env("container", "microsandbox").Env("LANG", "C.UTF-8").Env("TOKEN", "a=b;c\x1fd")).Build()))["handoff_init"]!;
        Assert.Equal([("container", "microsandbox"), ("LANG", "C.UTF-8"), ("TOKEN", "a=b;c\x1fd")],
            init["env"]!.AsArray().Select(e => ((string?)e!["key"], (string?)e["value"])));
    }

    [Fact] // test_handoff_init_omitted_when_unset
    public void Handoff_init_is_omitted_when_unset() => Assert.False(Bootstrap(Plan(Builder().Build())).ContainsKey("handoff_init"));

    [Fact] // test_handoff_init_unit_separator_in_arg_allowed
    public void Handoff_init_allows_a_unit_separator_in_an_arg()
    {
        var launch = Plan(Builder().InitWith("/sbin/init", i => i.Args("foo\x1fbar")).Build());
        var read = LaunchConfig.FromJson(System.Text.Encoding.UTF8.GetBytes(launch.ToJson()));
        Assert.Equal(["foo\x1fbar"], read.Bootstrap["handoff_init"]!["args"]!.AsArray().Select(a => (string?)a));
    }

    [Fact] // test_handoff_init_equals_in_env_key_rejected_at_build_time
    public void Handoff_init_env_key_with_equals_is_rejected_at_build_time()
    {
        var e = Assert.ThrowsAny<MicrosandboxException>(() => Builder().InitWith("/sbin/init", i => i.Env("BAD=KEY", "v")).Build());
        Assert.Contains("must not contain '='", e.Message, StringComparison.Ordinal);
    }

    // ---- the krun engine's additions ------------------------------------------------------------------------------

    [Fact] // test_sandbox_cli_args_oci_without_manifest_digest_emits_no_block_root (0.6 here: OCI is refused before planning)
    public void Oci_images_reach_the_krun_engine_only_as_prepared_root_disks()
    {
        var location = new MsbLocation("/usr/bin/msb", "PATH", "/usr/lib/libkrunfw.so.5", "0.6.18", null, []);
        var engine = new KrunEngine(location);
        var spec = new SandboxBuilder("test").Image("alpine").Build().WithDefaults().Spec;
        // The image layer pulls and builds the disk (OciImages.PrepareAsync); a reference that skipped it is refused.
        var e = Assert.Throws<MicrosandboxException>(() => engine.ResolveImage(spec));
        Assert.Contains("was not prepared for sandbox 'test'", e.Message, StringComparison.Ordinal);
        Assert.Throws<MicrosandboxException>(() => LaunchPlanner.Plan(spec, 1, _home));
    }

    [Fact]
    public void Krun_engine_sets_libkrunfw_and_wraps_the_network_config()
    {
        var location = new MsbLocation("/usr/bin/msb", "PATH", "/usr/lib/libkrunfw.so.5", "0.6.18", null, []);
        var engine = new KrunEngine(location);
        var spec = Builder().Port(8080, 80).Build().WithDefaults().Spec;
        var launch = engine.Complete(LaunchPlanner.Plan(spec, 1, _home), spec);
        Assert.Equal("/usr/lib/libkrunfw.so.5", launch.LibkrunfwPath);
        Assert.Equal(["/usr/bin/msb"], engine.SandboxProcessProgram);
        Assert.Null(launch.Qemu);
        var config = launch.Network!["config"]!;
        Assert.True((bool?)config["enabled"]);
        var port = Assert.Single(config["ports"]!.AsArray())!;
        Assert.Equal((ushort)8080, (ushort?)port["host_port"]);
        Assert.Equal((ushort)80, (ushort?)port["guest_port"]);
        Assert.Equal("tcp", (string?)port["protocol"]);
    }
}
