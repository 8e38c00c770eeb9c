using System.Collections.Immutable;
using System.Text.Json;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Spec;

/// <summary>
/// The value each valid fixture holds, built in C#: serialising these must give the fixture bytes, which checks
/// the writer independently of the reader.
/// </summary>
internal static class SpecFixtureValues
{
    private static MountOptions Opts(bool ro = false, bool noexec = false, bool nosuid = false, bool nodev = false) =>
        new() { Readonly = ro, Noexec = noexec, Nosuid = nosuid, Nodev = nodev };

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    private static ImmutableSortedDictionary<string, string> Map(params (string Key, string Value)[] pairs) =>
        pairs.ToImmutableSortedDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    public static readonly IReadOnlyDictionary<string, object> ByFixture = new Dictionary<string, object>
    {
        ["SandboxSpec.default.json"] = new SandboxSpec(),
        ["SandboxSpec.full.json"] = new SandboxSpec
        {
            Name = "web-1",
            Image = new RootfsSource.Oci(new OciRootfsSource("python:3.12-slim") { UpperSizeMib = 4096 }),
            Resources = new SandboxResources { Cpus = 4, MemoryMib = 2048 },
            Runtime = new SandboxRuntimeOptions
            {
                Workdir = "/app",
                Shell = "/bin/bash",
                // Given out of order on purpose: the writer sorts like a BTreeMap.
                Scripts = new Dictionary<string, string> { ["start"] = "python -m http.server 8000", ["build"] = "make all" },
                Entrypoint = ["/usr/bin/env"],
                Cmd = ["python", "-m", "http.server"],
                Hostname = "web",
                User = "1000:1000",
                LogLevel = SandboxLogLevel.Debug,
                MetricsSampleIntervalMs = 250,
                DisableMetricsSample = true,
            },
            Env = [new EnvVar("PATH", "/usr/local/bin:/usr/bin"), new EnvVar("GREETING", "a=b \"quoted\"\ttab")],
            Labels = new Dictionary<string, string> { ["team"] = "core", ["app"] = "web" },
            Rlimits =
            [
                new Rlimit { Resource = RlimitResource.Nofile, Soft = 1024, Hard = 4096 },
                new Rlimit { Resource = RlimitResource.As, Soft = ulong.MaxValue, Hard = ulong.MaxValue },
            ],
            Mounts =
            [
                new VolumeMount.Bind
                {
                    Host = "/home/dev/src", Guest = "/src", Options = Opts(ro: true),
                    StatVirtualization = StatVirtualization.Relaxed, HostPermissions = HostPermissions.Mirror, QuotaMib = 1024,
                },
                new VolumeMount.Named
                {
                    Name = "cache", Guest = "/cache", Options = Opts(noexec: true, nosuid: true, nodev: true),
                    StatVirtualization = StatVirtualization.Off,
                    // Transient: must not appear in the JSON.
                    Create = new NamedVolumeCreate { Mode = NamedVolumeMode.Create, Name = "cache" },
                },
                new VolumeMount.Tmpfs { Guest = "/tmp", SizeMib = 128 },
                new VolumeMount.DiskImage
                {
                    Host = "/images/data.qcow2", Guest = "/data", Format = DiskImageFormat.Qcow2, Fstype = "ext4", Options = Opts(nosuid: true),
                },
            ],
            Patches =
            [
                new Patch.Text { Path = "/etc/app.conf", Content = "port=8080\n", Mode = 420, Replace = true },
                new Patch.File { Path = "/opt/blob.bin", Content = new byte[] { 0, 1, 127, 128, 255 } },
                new Patch.CopyFile { Src = "/host/config.toml", Dst = "/etc/config.toml", Mode = 384 },
                new Patch.CopyDir { Src = "/host/assets", Dst = "/srv/assets", Replace = true },
                new Patch.Symlink { Target = "/usr/bin/python3", Link = "/usr/local/bin/python", Replace = true },
                new Patch.Mkdir { Path = "/var/lib/app", Mode = 493 },
                new Patch.Remove { Path = "/etc/motd" },
                new Patch.Append { Path = "/etc/hosts", Content = "10.0.0.2 db\n" },
            ],
            Network = new NetworkSpec
            {
                Interface = Json("""{"mtu":1400}"""),
                Ports =
                [
                    new PublishedPortSpec { HostPort = 8080, GuestPort = 80 },
                    new PublishedPortSpec { HostPort = 5353, GuestPort = 53, Protocol = PortProtocol.Udp, HostBind = "0.0.0.0" },
                ],
                // Keys given unsorted: serde_json::Value (a BTreeMap) sorts them.
                Policy = Json("""{"rules":[{"ports":[80,443],"destination":"10.0.0.0/8","action":"allow"}],"default_action":"deny"}"""),
                Dns = Json("""{"rebind_protection":true,"block":["ads.invalid"]}"""),
                Tls = Json("""{"intercept":false,"bypass":[]}"""),
                Secrets = Json("""{"API_KEY":{"placeholder":"$API_KEY","allowed_hosts":["api.internal"]}}"""),
                MaxConnections = 64,
                TrustHostCas = true,
            },
            Init = new HandoffInit { Cmd = "/sbin/init", Args = ["--log-target=console"], Env = [("container", "microsandbox")] },
            PullPolicy = PullPolicy.Always,
            SecurityProfile = SecurityProfile.Restricted,
            Lifecycle = new SandboxPolicy { Ephemeral = true, MaxDurationSecs = 3600, IdleTimeoutSecs = 300 },
        },
        ["SandboxSpec.bind-rootfs.json"] = new SandboxSpec
        {
            Name = "dev",
            Image = new RootfsSource.Bind("/srv/rootfs"),
            Resources = new SandboxResources { Cpus = 255, MemoryMib = uint.MaxValue },
            Runtime = new SandboxRuntimeOptions { Entrypoint = [], LogLevel = SandboxLogLevel.Trace, MetricsSampleIntervalMs = null },
            Network = new NetworkSpec { Enabled = false },
            Init = new HandoffInit { Cmd = "auto" },
            PullPolicy = PullPolicy.Never,
        },
        ["SandboxSpec.disk-image-rootfs.json"] = new SandboxSpec
        {
            Name = "vm.disk_2",
            Image = new RootfsSource.DiskImage { Path = "/images/root.raw", Format = DiskImageFormat.Raw },
            Resources = new SandboxResources { Cpus = 2, MemoryMib = 1024 },
            Labels = Map(("é", "accent"), ("a", "lower"), ("Z", "upper")),
        },
        ["RootfsSource.Bind.json"] = new RootfsSource.Bind("/srv/rootfs"),
        ["RootfsSource.Oci.json"] = RootfsSource.ForOci("alpine:3.20"),
        ["RootfsSource.Oci-upper.json"] = new RootfsSource.Oci(new OciRootfsSource("alpine:3.20") { UpperSizeMib = 8192 }),
        ["RootfsSource.DiskImage.json"] = new RootfsSource.DiskImage { Path = "/images/root.qcow2", Format = DiskImageFormat.Qcow2 },
        ["RootfsSource.DiskImage-fstype.json"] = new RootfsSource.DiskImage { Path = "/images/root.vmdk", Format = DiskImageFormat.Vmdk, Fstype = "xfs" },
        ["OciRootfsSource.json"] = new OciRootfsSource("registry.local:5000/team/app@sha256:0123456789abcdef"),
        ["VolumeMount.Bind.json"] = new VolumeMount.Bind
        {
            Host = "/home/dev/src", Guest = "/src", Options = Opts(ro: true, noexec: true),
            StatVirtualization = StatVirtualization.Relaxed, HostPermissions = HostPermissions.Mirror, QuotaMib = 1024,
        },
        ["VolumeMount.Bind-defaults.json"] = new VolumeMount.Bind { Host = "/data", Guest = "/data" },
        ["VolumeMount.Named.json"] = new VolumeMount.Named
        {
            Name = "cache", Guest = "/cache", Options = Opts(nosuid: true, nodev: true), StatVirtualization = StatVirtualization.Off,
        },
        ["VolumeMount.Tmpfs.json"] = new VolumeMount.Tmpfs { Guest = "/tmp", SizeMib = 64, Options = Opts(noexec: true, nosuid: true, nodev: true) },
        ["VolumeMount.Tmpfs-unsized.json"] = new VolumeMount.Tmpfs { Guest = "/run" },
        ["VolumeMount.DiskImage.json"] = new VolumeMount.DiskImage
        {
            Host = "/images/data.vmdk", Guest = "/data", Format = DiskImageFormat.Vmdk, Options = Opts(ro: true),
        },
        ["MountOptions.default.json"] = new MountOptions(),
        ["Patch.Text.json"] = new Patch.Text { Path = "/etc/app.conf", Content = "line1\nline2\u0001\\end", Mode = 420 },
        ["Patch.File.json"] = new Patch.File { Path = "/opt/blob.bin", Content = new byte[] { 0, 1, 127, 128, 255 }, Replace = true },
        ["Patch.CopyFile.json"] = new Patch.CopyFile { Src = "/host/config.toml", Dst = "/etc/config.toml" },
        ["Patch.CopyDir.json"] = new Patch.CopyDir { Src = "/host/assets", Dst = "/srv/assets" },
        ["Patch.Symlink.json"] = new Patch.Symlink { Target = "../lib/libfoo.so.1", Link = "/usr/lib/libfoo.so" },
        ["Patch.Mkdir.json"] = new Patch.Mkdir { Path = "/var/lib/app" },
        ["Patch.Remove.json"] = new Patch.Remove { Path = "/etc/motd" },
        ["Patch.Append.json"] = new Patch.Append { Path = "/etc/profile", Content = "export LANG=C.UTF-8\n" },
        ["NetworkSpec.default.json"] = new NetworkSpec(),
        ["NetworkSpec.values.json"] = new NetworkSpec
        {
            Interface = Json("""{"mtu":1500,"ip":"10.0.2.15"}"""),
            Policy = Json("""[1,-2,3.5,1e21,null,true,"x"]"""),
            Dns = Json("\"plain string\""),
            Tls = Json("false"),
            Secrets = Json("""{"a":[],"A":{},"":0}"""),
            MaxConnections = ulong.MaxValue,
        },
        ["PublishedPortSpec.json"] = new PublishedPortSpec { HostPort = 65535, GuestPort = 53, Protocol = PortProtocol.Udp, HostBind = "0.0.0.0" },
        ["HandoffInit.json"] = new HandoffInit { Cmd = "auto" },
        ["HandoffInit.full.json"] = new HandoffInit
        {
            Cmd = "/lib/systemd/systemd",
            Args = ["--unit=multi-user.target", "--log-level=info"],
            Env = [("container", "microsandbox"), ("container", "again")],
        },
        ["SandboxPolicy.default.json"] = new SandboxPolicy(),
        ["SandboxPolicy.full.json"] = new SandboxPolicy { Ephemeral = true, MaxDurationSecs = 3600, IdleTimeoutSecs = 120 },
        ["SnapshotDestination.Name.json"] = new SnapshotDestination.Name("web-1-base"),
        ["SnapshotDestination.Path.json"] = new SnapshotDestination.Path("./snapshots/web-1"),
        ["SnapshotSpec.json"] = new SnapshotSpec
        {
            SourceSandbox = "web-1",
            Destination = new SnapshotDestination.Path("/var/snapshots/web"),
            Labels = [("stage", "base"), ("owner", "ci")],
            Force = true,
        },
        ["VolumeSpec.json"] = new VolumeSpec("cache"),
        ["VolumeSpec.disk.json"] = new VolumeSpec("pgdata") { Kind = VolumeKind.Disk, CapacityMib = 2048, Labels = [("tier", "hot")] },
        ["NamedVolumeCreate.json"] = new NamedVolumeCreate
        {
            Mode = NamedVolumeMode.EnsureExists, Name = "cache", Kind = VolumeKind.Directory, QuotaMib = 512, Labels = [("a", "b")],
        },
        ["EnvVar.json"] = new EnvVar("RUST_LOG", "info"),
        ["Rlimit.json"] = new Rlimit { Resource = RlimitResource.Nproc, Soft = 0, Hard = 256 },
        ["SandboxResources.json"] = new SandboxResources(),
        ["SandboxRuntimeOptions.default.json"] = new SandboxRuntimeOptions(),
    };
}
