using System.Text.Json;

namespace Microsandbox.Spec.Json;

/// <summary>
/// Reads spec types from a parsed JSON tree with serde's rules: which fields are required, which default when
/// missing, when <c>null</c> means <c>None</c>. Every problem is collected with its JSON path rather than thrown,
/// so one pass reports them all.
/// </summary>
internal sealed partial class SpecJsonReader
{
    private static readonly string[] RootfsVariants = ["Bind", "Oci", "DiskImage"];
    private static readonly string[] MountVariants = ["Bind", "Named", "Tmpfs", "DiskImage"];
    private static readonly string[] PatchVariants = ["Text", "File", "CopyFile", "CopyDir", "Symlink", "Mkdir", "Remove", "Append"];
    private static readonly string[] DestinationVariants = ["Name", "Path"];

    private static readonly Dictionary<Type, Func<SpecJsonReader, JsonElement, string, object>> Readers = new()
    {
        [typeof(SandboxSpec)] = (r, e, p) => r.Spec(e, p),
        [typeof(SandboxResources)] = (r, e, p) => r.Resources(e, p),
        [typeof(SandboxRuntimeOptions)] = (r, e, p) => r.Runtime(e, p),
        [typeof(RootfsSource)] = (r, e, p) => r.Rootfs(e, p),
        [typeof(OciRootfsSource)] = (r, e, p) => r.Oci(e, p),
        [typeof(MountOptions)] = (r, e, p) => r.Options(e, p),
        [typeof(VolumeSpec)] = (r, e, p) => r.Volume(e, p),
        [typeof(NamedVolumeCreate)] = (r, e, p) => r.NamedCreate(e, p),
        [typeof(VolumeMount)] = (r, e, p) => r.Mount(e, p),
        [typeof(Patch)] = (r, e, p) => r.PatchValue(e, p),
        [typeof(NetworkSpec)] = (r, e, p) => r.Network(e, p),
        [typeof(PublishedPortSpec)] = (r, e, p) => r.Port(e, p),
        [typeof(HandoffInit)] = (r, e, p) => r.Init(e, p),
        [typeof(SandboxPolicy)] = (r, e, p) => r.Policy(e, p),
        [typeof(SnapshotDestination)] = (r, e, p) => r.Destination(e, p),
        [typeof(SnapshotSpec)] = (r, e, p) => r.Snapshot(e, p),
        [typeof(EnvVar)] = (r, e, p) => r.Env(e, p),
        [typeof(Rlimit)] = (r, e, p) => r.RlimitValue(e, p),
        [typeof(DiskImageFormat)] = (r, e, p) => r.Enum<DiskImageFormat>(e, p),
        [typeof(PullPolicy)] = (r, e, p) => r.Enum<PullPolicy>(e, p),
        [typeof(VolumeKind)] = (r, e, p) => r.Enum<VolumeKind>(e, p),
        [typeof(NamedVolumeMode)] = (r, e, p) => r.Enum<NamedVolumeMode>(e, p),
        [typeof(RlimitResource)] = (r, e, p) => r.Enum<RlimitResource>(e, p),
        [typeof(StatVirtualization)] = (r, e, p) => r.Enum<StatVirtualization>(e, p),
        [typeof(HostPermissions)] = (r, e, p) => r.Enum<HostPermissions>(e, p),
        [typeof(SecurityProfile)] = (r, e, p) => r.Enum<SecurityProfile>(e, p),
        [typeof(PortProtocol)] = (r, e, p) => r.Enum<PortProtocol>(e, p),
        [typeof(SandboxLogLevel)] = (r, e, p) => r.Enum<SandboxLogLevel>(e, p),
        [typeof(LogSource)] = (r, e, p) => r.Enum<LogSource>(e, p),
    };

    /// <summary>Whether <paramref name="type"/> is a wire type this reader (and the writer) handles.</summary>
    public static bool Supports(Type type) => Readers.ContainsKey(type);

    /// <summary>Reads a value of a supported type; check <see cref="Errors"/> before trusting it.</summary>
    public object Read(Type type, JsonElement e) =>
        Readers.TryGetValue(type, out var read)
            ? read(this, e, JsonPath.Root)
            : throw new ArgumentException($"{type.FullName} is not a Microsandbox.Spec wire type", nameof(type));

    private SandboxSpec Spec(JsonElement e, string path)
    {
        var d = new SandboxSpec();
        if (Open(e, path) is not { } f) return d;
        var spec = new SandboxSpec
        {
            Name = Opt(f, "name", Str, d.Name),
            Image = Opt(f, "image", Rootfs, d.Image),
            Resources = Opt(f, "resources", Resources, d.Resources),
            Runtime = Opt(f, "runtime", Runtime, d.Runtime),
            Env = Opt(f, "env", (v, p) => List(v, p, Env), d.Env),
            Labels = Opt(f, "labels", Map, d.Labels),
            Rlimits = Opt(f, "rlimits", (v, p) => List(v, p, RlimitValue), d.Rlimits),
            Mounts = Opt(f, "mounts", (v, p) => List(v, p, Mount), d.Mounts),
            Patches = Opt(f, "patches", (v, p) => List(v, p, PatchValue), d.Patches),
            Network = Opt(f, "network", Network, d.Network),
            Init = Opt(f, "init", (v, p) => v.ValueKind == JsonValueKind.Null ? null : Init(v, p), d.Init),
            PullPolicy = Opt(f, "pull_policy", Enum<PullPolicy>, d.PullPolicy),
            SecurityProfile = Opt(f, "security_profile", Enum<SecurityProfile>, d.SecurityProfile),
            Lifecycle = Opt(f, "lifecycle", Policy, d.Lifecycle),
        };
        f.WarnUnknown();
        return spec;
    }

    private SandboxResources Resources(JsonElement e, string path)
    {
        var d = new SandboxResources();
        if (Open(e, path) is not { } f) return d;
        var resources = new SandboxResources
        {
            Cpus = Opt(f, "cpus", U8, d.Cpus),
            MemoryMib = Opt(f, "memory_mib", U32, d.MemoryMib),
        };
        f.WarnUnknown();
        return resources;
    }

    private SandboxRuntimeOptions Runtime(JsonElement e, string path)
    {
        var d = new SandboxRuntimeOptions();
        if (Open(e, path) is not { } f) return d;
        var runtime = new SandboxRuntimeOptions
        {
            Workdir = Opt(f, "workdir", OptStr, d.Workdir),
            Shell = Opt(f, "shell", OptStr, d.Shell),
            Scripts = Opt(f, "scripts", Map, d.Scripts),
            Entrypoint = Opt(f, "entrypoint", OptStrings, d.Entrypoint),
            Cmd = Opt(f, "cmd", OptStrings, d.Cmd),
            Hostname = Opt(f, "hostname", OptStr, d.Hostname),
            User = Opt(f, "user", OptStr, d.User),
            LogLevel = Opt(f, "log_level", OptEnum<SandboxLogLevel>, d.LogLevel),
            // Missing means the container default (1000 ms); an explicit null means sampling is off.
            MetricsSampleIntervalMs = Opt(f, "metrics_sample_interval_ms", OptU64, d.MetricsSampleIntervalMs),
            DisableMetricsSample = Opt(f, "disable_metrics_sample", Bool, d.DisableMetricsSample),
        };
        f.WarnUnknown();
        return runtime;
    }

    private RootfsSource Rootfs(JsonElement e, string path)
    {
        if (!Variant(e, path, RootfsVariants, out var variant, out var payload, out var payloadPath)) return RootfsSource.Default;
        switch (variant)
        {
            case "Bind":
                return new RootfsSource.Bind(Str(payload, payloadPath));
            case "Oci":
                return new RootfsSource.Oci(Oci(payload, payloadPath));
            default:
                if (Open(payload, payloadPath) is not { } f) return RootfsSource.Default;
                var disk = new RootfsSource.DiskImage
                {
                    Path = Req(f, "path", Str, ""),
                    Format = Req(f, "format", Enum<DiskImageFormat>, default),
                    Fstype = Opt(f, "fstype", OptStr, null),
                };
                f.WarnUnknown();
                return disk;
        }
    }

    private OciRootfsSource Oci(JsonElement e, string path)
    {
        if (Open(e, path) is not { } f) return new();
        var oci = new OciRootfsSource
        {
            Reference = Req(f, "reference", Str, ""),
            UpperSizeMib = Opt(f, "upper_size_mib", OptU32, null),
        };
        f.WarnUnknown();
        return oci;
    }

    private MountOptions Options(JsonElement e, string path)
    {
        if (Open(e, path) is not { } f) return new();
        var options = new MountOptions
        {
            Readonly = Opt(f, "readonly", Bool, false),
            Noexec = Opt(f, "noexec", Bool, false),
            Nosuid = Opt(f, "nosuid", Bool, false),
            Nodev = Opt(f, "nodev", Bool, false),
        };
        f.WarnUnknown();
        return options;
    }

    private VolumeSpec Volume(JsonElement e, string path)
    {
        if (Open(e, path) is not { } f) return new();
        var volume = new VolumeSpec
        {
            Name = Req(f, "name", Str, ""),
            Kind = Req(f, "kind", Enum<VolumeKind>, default),
            QuotaMib = Opt(f, "quota_mib", OptU32, null),
            CapacityMib = Opt(f, "capacity_mib", OptU32, null),
            Labels = Req(f, "labels", Pairs, []),
        };
        f.WarnUnknown();
        return volume;
    }

    private NamedVolumeCreate NamedCreate(JsonElement e, string path)
    {
        if (Open(e, path) is not { } f) return new();
        var create = new NamedVolumeCreate
        {
            Mode = Req(f, "mode", Enum<NamedVolumeMode>, default),
            Name = Req(f, "name", Str, ""),
            Kind = Req(f, "kind", Enum<VolumeKind>, default),
            QuotaMib = Opt(f, "quota_mib", OptU32, null),
            CapacityMib = Opt(f, "capacity_mib", OptU32, null),
            Labels = Req(f, "labels", Pairs, []),
        };
        f.WarnUnknown();
        return create;
    }

    private VolumeMount Mount(JsonElement e, string path)
    {
        var fallback = new VolumeMount.Tmpfs();
        if (Open(e, path) is not { } f) return fallback;
        if (!f.Require("type", out var tag, out var tagPath)) return fallback;
        string choices = string.Join(", ", MountVariants.Select(JsonPath.Quote));
        if (tag.ValueKind != JsonValueKind.String)
        {
            Error(tagPath, $"expected a string, one of {choices}");
            return fallback;
        }
        string variant = Str(tag, tagPath);
        VolumeMount mount;
        switch (variant)
        {
            case "Bind":
                mount = new VolumeMount.Bind
                {
                    Host = Req(f, "host", Str, ""),
                    Guest = Req(f, "guest", Str, ""),
                    Options = MountOptionsOrLegacy(f),
                    StatVirtualization = Opt(f, "stat_virtualization", Enum<StatVirtualization>, StatVirtualization.Strict),
                    HostPermissions = Opt(f, "host_permissions", Enum<HostPermissions>, HostPermissions.Private),
                    QuotaMib = Opt(f, "quota_mib", OptU32, null),
                };
                break;
            case "Named":
                mount = new VolumeMount.Named
                {
                    Name = Req(f, "name", Str, ""),
                    Guest = Req(f, "guest", Str, ""),
                    Options = MountOptionsOrLegacy(f),
                    StatVirtualization = Opt(f, "stat_virtualization", Enum<StatVirtualization>, StatVirtualization.Strict),
                    HostPermissions = Opt(f, "host_permissions", Enum<HostPermissions>, HostPermissions.Private),
                };
                break;
            case "Tmpfs":
                mount = new VolumeMount.Tmpfs
                {
                    Guest = Req(f, "guest", Str, ""),
                    SizeMib = Opt(f, "size_mib", OptU32, null),
                    Options = MountOptionsOrLegacy(f),
                };
                break;
            case "DiskImage":
                mount = new VolumeMount.DiskImage
                {
                    Host = Req(f, "host", Str, ""),
                    Guest = Req(f, "guest", Str, ""),
                    Format = Req(f, "format", Enum<DiskImageFormat>, default),
                    Fstype = Opt(f, "fstype", OptStr, null),
                    Options = MountOptionsOrLegacy(f),
                };
                break;
            default:
                Error(tagPath, $"unknown variant {JsonPath.Quote(variant)}, expected one of {choices}");
                return fallback;
        }
        f.WarnUnknown();
        return mount;
    }

    /// <summary>
    /// <c>options</c> when present and not null; otherwise options built from the legacy top-level <c>readonly</c> flag.
    /// </summary>
    private MountOptions MountOptionsOrLegacy(JsonFields f)
    {
        var options = Opt(f, "options", (v, p) => v.ValueKind == JsonValueKind.Null ? null : Options(v, p), null);
        bool legacyReadonly = Opt(f, "readonly", Bool, false);
        return options ?? new MountOptions { Readonly = legacyReadonly };
    }

    private Patch PatchValue(JsonElement e, string path)
    {
        var fallback = new Patch.Remove();
        if (!Variant(e, path, PatchVariants, out var variant, out var payload, out var payloadPath)) return fallback;
        if (Open(payload, payloadPath) is not { } f) return fallback;
        Patch patch = variant switch
        {
            "Text" => new Patch.Text
            {
                Path = Req(f, "path", Str, ""),
                Content = Req(f, "content", Str, ""),
                Mode = Opt(f, "mode", OptU32, null),
                Replace = Req(f, "replace", Bool, false),
            },
            "File" => new Patch.File
            {
                Path = Req(f, "path", Str, ""),
                Content = Req(f, "content", (v, p) => List(v, p, U8).ToArray(), []),
                Mode = Opt(f, "mode", OptU32, null),
                Replace = Req(f, "replace", Bool, false),
            },
            "CopyFile" => new Patch.CopyFile
            {
                Src = Req(f, "src", Str, ""),
                Dst = Req(f, "dst", Str, ""),
                Mode = Opt(f, "mode", OptU32, null),
                Replace = Req(f, "replace", Bool, false),
            },
            "CopyDir" => new Patch.CopyDir
            {
                Src = Req(f, "src", Str, ""),
                Dst = Req(f, "dst", Str, ""),
                Replace = Req(f, "replace", Bool, false),
            },
            "Symlink" => new Patch.Symlink
            {
                Target = Req(f, "target", Str, ""),
                Link = Req(f, "link", Str, ""),
                Replace = Req(f, "replace", Bool, false),
            },
            "Mkdir" => new Patch.Mkdir
            {
                Path = Req(f, "path", Str, ""),
                Mode = Opt(f, "mode", OptU32, null),
            },
            "Remove" => new Patch.Remove
            {
                Path = Req(f, "path", Str, ""),
            },
            _ => new Patch.Append
            {
                Path = Req(f, "path", Str, ""),
                Content = Req(f, "content", Str, ""),
            },
        };
        f.WarnUnknown();
        return patch;
    }

    private NetworkSpec Network(JsonElement e, string path)
    {
        var d = new NetworkSpec();
        if (Open(e, path) is not { } f) return d;
        var network = new NetworkSpec
        {
            Enabled = Opt(f, "enabled", Bool, d.Enabled),
            Interface = Opt(f, "interface", OptValue, null),
            Ports = Opt(f, "ports", (v, p) => List(v, p, Port), d.Ports),
            Policy = Opt(f, "policy", OptValue, null),
            Dns = Opt(f, "dns", OptValue, null),
            Tls = Opt(f, "tls", OptValue, null),
            Secrets = Opt(f, "secrets", OptValue, null),
            MaxConnections = Opt(f, "max_connections", OptU64, null),
            TrustHostCas = Opt(f, "trust_host_cas", Bool, d.TrustHostCas),
        };
        f.WarnUnknown();
        return network;
    }

    private PublishedPortSpec Port(JsonElement e, string path)
    {
        if (Open(e, path) is not { } f) return new();
        var port = new PublishedPortSpec
        {
            HostPort = Req(f, "host_port", U16, (ushort)0),
            GuestPort = Req(f, "guest_port", U16, (ushort)0),
            Protocol = Opt(f, "protocol", Enum<PortProtocol>, PortProtocol.Tcp),
            HostBind = Req(f, "host_bind", Str, ""),
        };
        f.WarnUnknown();
        return port;
    }

    private HandoffInit Init(JsonElement e, string path)
    {
        if (Open(e, path) is not { } f) return new();
        var init = new HandoffInit
        {
            Cmd = Req(f, "cmd", Str, ""),
            Args = Opt(f, "args", Strings, []),
            Env = Opt(f, "env", Pairs, []),
        };
        f.WarnUnknown();
        return init;
    }

    private SandboxPolicy Policy(JsonElement e, string path)
    {
        if (Open(e, path) is not { } f) return new();
        var policy = new SandboxPolicy
        {
            Ephemeral = Opt(f, "ephemeral", Bool, false),
            MaxDurationSecs = Opt(f, "max_duration_secs", OptU64, null),
            IdleTimeoutSecs = Opt(f, "idle_timeout_secs", OptU64, null),
        };
        f.WarnUnknown();
        return policy;
    }

    private SnapshotDestination Destination(JsonElement e, string path)
    {
        if (!Variant(e, path, DestinationVariants, out var variant, out var payload, out var payloadPath))
            return new SnapshotDestination.Name("");
        string value = Str(payload, payloadPath);
        return variant == "Name" ? new SnapshotDestination.Name(value) : new SnapshotDestination.Path(value);
    }

    private SnapshotSpec Snapshot(JsonElement e, string path)
    {
        if (Open(e, path) is not { } f) return new();
        var snapshot = new SnapshotSpec
        {
            SourceSandbox = Req(f, "source_sandbox", Str, ""),
            Destination = Req(f, "destination", Destination, new SnapshotDestination.Name("")),
            Labels = Req(f, "labels", Pairs, []),
            Force = Req(f, "force", Bool, false),
            RecordIntegrity = Req(f, "record_integrity", Bool, false),
        };
        f.WarnUnknown();
        return snapshot;
    }

    private EnvVar Env(JsonElement e, string path)
    {
        if (Open(e, path) is not { } f) return new();
        var env = new EnvVar(Req(f, "key", Str, ""), Req(f, "value", Str, ""));
        f.WarnUnknown();
        return env;
    }

    private Rlimit RlimitValue(JsonElement e, string path)
    {
        if (Open(e, path) is not { } f) return new();
        var rlimit = new Rlimit
        {
            Resource = Req(f, "resource", Enum<RlimitResource>, default),
            Soft = Req(f, "soft", U64, 0UL),
            Hard = Req(f, "hard", U64, 0UL),
        };
        f.WarnUnknown();
        return rlimit;
    }
}
