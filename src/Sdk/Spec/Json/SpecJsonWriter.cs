using System.Text.Json;

namespace Microsandbox.Spec.Json;

/// <summary>
/// Writes spec types in serde's field order and shape. Each method mirrors one Rust type's
/// <c>Serialize</c> (derived or hand-written), including which <c>None</c>s are skipped and which are <c>null</c>.
/// </summary>
internal static class SpecJsonWriter
{
    public static string Write(object value)
    {
        var writer = new SerdeJsonWriter();
        WriteAny(writer, value);
        return writer.ToString();
    }

    private static void WriteAny(SerdeJsonWriter w, object value)
    {
        switch (value)
        {
            case SandboxSpec v: Spec(w, v); break;
            case SandboxResources v: Resources(w, v); break;
            case SandboxRuntimeOptions v: Runtime(w, v); break;
            case RootfsSource v: Rootfs(w, v); break;
            case OciRootfsSource v: Oci(w, v); break;
            case MountOptions v: Options(w, v); break;
            case VolumeSpec v: Volume(w, v); break;
            case NamedVolumeCreate v: NamedCreate(w, v); break;
            case VolumeMount v: Mount(w, v); break;
            case Patch v: PatchValue(w, v); break;
            case NetworkSpec v: Network(w, v); break;
            case PublishedPortSpec v: Port(w, v); break;
            case HandoffInit v: Init(w, v); break;
            case SandboxPolicy v: Policy(w, v); break;
            case SnapshotDestination v: Destination(w, v); break;
            case SnapshotSpec v: Snapshot(w, v); break;
            case EnvVar v: Env(w, v); break;
            case Rlimit v: RlimitValue(w, v); break;
            case Enum v when WireNames.Supports(v.GetType()):
                w.String(WireNames.Of(v.GetType())[Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)]);
                break;
            default:
                throw new ArgumentException($"{value.GetType().FullName} is not a Microsandbox.Spec wire type", nameof(value));
        }
    }

    public static void Spec(SerdeJsonWriter w, SandboxSpec s)
    {
        w.StartObject();
        w.Field("name", s.Name);
        w.Name("image"); Rootfs(w, s.Image);
        w.Name("resources"); Resources(w, s.Resources);
        w.Name("runtime"); Runtime(w, s.Runtime);
        w.Name("env"); List(w, s.Env, Env);
        w.Name("labels"); SortedMap(w, s.Labels);
        w.Name("rlimits"); List(w, s.Rlimits, RlimitValue);
        w.Name("mounts"); List(w, s.Mounts, Mount);
        w.Name("patches"); List(w, s.Patches, PatchValue);
        w.Name("network"); Network(w, s.Network);
        w.Name("init");
        if (s.Init is null) w.Null(); else Init(w, s.Init);
        w.Field("pull_policy", WireNames.Name(s.PullPolicy));
        w.Field("security_profile", WireNames.Name(s.SecurityProfile));
        w.Name("lifecycle"); Policy(w, s.Lifecycle);
        w.EndObject();
    }

    public static void Resources(SerdeJsonWriter w, SandboxResources r)
    {
        w.StartObject();
        w.Field("cpus", r.Cpus);
        w.Field("memory_mib", r.MemoryMib);
        w.EndObject();
    }

    public static void Runtime(SerdeJsonWriter w, SandboxRuntimeOptions r)
    {
        w.StartObject();
        w.Field("workdir", r.Workdir);
        w.Field("shell", r.Shell);
        w.Name("scripts"); SortedMap(w, r.Scripts);
        w.Name("entrypoint"); OptionalStrings(w, r.Entrypoint);
        w.Name("cmd"); OptionalStrings(w, r.Cmd);
        w.Field("hostname", r.Hostname);
        w.Field("user", r.User);
        w.Field("log_level", r.LogLevel is { } level ? WireNames.Name(level) : null);
        w.Field("metrics_sample_interval_ms", r.MetricsSampleIntervalMs);
        w.Field("disable_metrics_sample", r.DisableMetricsSample);
        w.EndObject();
    }

    public static void Rootfs(SerdeJsonWriter w, RootfsSource source)
    {
        w.StartObject();
        switch (source)
        {
            case RootfsSource.Bind bind:
                w.Field("Bind", bind.Path);
                break;
            case RootfsSource.Oci oci:
                w.Name("Oci"); Oci(w, oci.Source);
                break;
            case RootfsSource.DiskImage disk:
                w.Name("DiskImage");
                w.StartObject();
                w.Field("path", disk.Path);
                w.Field("format", WireNames.Name(disk.Format));
                w.Field("fstype", disk.Fstype);
                w.EndObject();
                break;
            default:
                throw new ArgumentException($"unknown rootfs source {source.GetType().Name}", nameof(source));
        }
        w.EndObject();
    }

    public static void Oci(SerdeJsonWriter w, OciRootfsSource oci)
    {
        w.StartObject();
        w.Field("reference", oci.Reference);
        if (oci.UpperSizeMib is { } upper) w.Field("upper_size_mib", upper);
        w.EndObject();
    }

    public static void Options(SerdeJsonWriter w, MountOptions o)
    {
        w.StartObject();
        w.Field("readonly", o.Readonly);
        w.Field("noexec", o.Noexec);
        w.Field("nosuid", o.Nosuid);
        w.Field("nodev", o.Nodev);
        w.EndObject();
    }

    public static void Volume(SerdeJsonWriter w, VolumeSpec v)
    {
        w.StartObject();
        w.Field("name", v.Name);
        w.Field("kind", WireNames.Name(v.Kind));
        w.Field("quota_mib", (ulong?)v.QuotaMib);
        w.Field("capacity_mib", (ulong?)v.CapacityMib);
        w.Name("labels"); Pairs(w, v.Labels);
        w.EndObject();
    }

    public static void NamedCreate(SerdeJsonWriter w, NamedVolumeCreate c)
    {
        w.StartObject();
        w.Field("mode", WireNames.Name(c.Mode));
        w.Field("name", c.Name);
        w.Field("kind", WireNames.Name(c.Kind));
        w.Field("quota_mib", (ulong?)c.QuotaMib);
        w.Field("capacity_mib", (ulong?)c.CapacityMib);
        w.Name("labels"); Pairs(w, c.Labels);
        w.EndObject();
    }

    public static void Mount(SerdeJsonWriter w, VolumeMount mount)
    {
        w.StartObject();
        switch (mount)
        {
            case VolumeMount.Bind bind:
                w.Field("type", "Bind");
                w.Field("host", bind.Host);
                w.Field("guest", bind.Guest);
                w.Name("options"); Options(w, bind.Options);
                w.Field("stat_virtualization", WireNames.Name(bind.StatVirtualization));
                w.Field("host_permissions", WireNames.Name(bind.HostPermissions));
                w.Field("quota_mib", (ulong?)bind.QuotaMib);
                break;
            case VolumeMount.Named named:
                // `create` is transient and never persisted.
                w.Field("type", "Named");
                w.Field("name", named.Name);
                w.Field("guest", named.Guest);
                w.Name("options"); Options(w, named.Options);
                w.Field("stat_virtualization", WireNames.Name(named.StatVirtualization));
                w.Field("host_permissions", WireNames.Name(named.HostPermissions));
                break;
            case VolumeMount.Tmpfs tmpfs:
                w.Field("type", "Tmpfs");
                w.Field("guest", tmpfs.Guest);
                w.Field("size_mib", (ulong?)tmpfs.SizeMib);
                w.Name("options"); Options(w, tmpfs.Options);
                break;
            case VolumeMount.DiskImage disk:
                w.Field("type", "DiskImage");
                w.Field("host", disk.Host);
                w.Field("guest", disk.Guest);
                w.Field("format", WireNames.Name(disk.Format));
                w.Field("fstype", disk.Fstype);
                w.Name("options"); Options(w, disk.Options);
                break;
            default:
                throw new ArgumentException($"unknown volume mount {mount.GetType().Name}", nameof(mount));
        }
        w.EndObject();
    }

    public static void PatchValue(SerdeJsonWriter w, Patch patch)
    {
        w.StartObject();
        switch (patch)
        {
            case Patch.Text text:
                w.Name("Text");
                w.StartObject();
                w.Field("path", text.Path);
                w.Field("content", text.Content);
                w.Field("mode", (ulong?)text.Mode);
                w.Field("replace", text.Replace);
                w.EndObject();
                break;
            case Patch.File file:
                w.Name("File");
                w.StartObject();
                w.Field("path", file.Path);
                w.Name("content");
                w.StartArray();
                foreach (byte b in file.Content.Span) w.UInt(b);
                w.EndArray();
                w.Field("mode", (ulong?)file.Mode);
                w.Field("replace", file.Replace);
                w.EndObject();
                break;
            case Patch.CopyFile copy:
                w.Name("CopyFile");
                w.StartObject();
                w.Field("src", copy.Src);
                w.Field("dst", copy.Dst);
                w.Field("mode", (ulong?)copy.Mode);
                w.Field("replace", copy.Replace);
                w.EndObject();
                break;
            case Patch.CopyDir copy:
                w.Name("CopyDir");
                w.StartObject();
                w.Field("src", copy.Src);
                w.Field("dst", copy.Dst);
                w.Field("replace", copy.Replace);
                w.EndObject();
                break;
            case Patch.Symlink link:
                w.Name("Symlink");
                w.StartObject();
                w.Field("target", link.Target);
                w.Field("link", link.Link);
                w.Field("replace", link.Replace);
                w.EndObject();
                break;
            case Patch.Mkdir mkdir:
                w.Name("Mkdir");
                w.StartObject();
                w.Field("path", mkdir.Path);
                w.Field("mode", (ulong?)mkdir.Mode);
                w.EndObject();
                break;
            case Patch.Remove remove:
                w.Name("Remove");
                w.StartObject();
                w.Field("path", remove.Path);
                w.EndObject();
                break;
            case Patch.Append append:
                w.Name("Append");
                w.StartObject();
                w.Field("path", append.Path);
                w.Field("content", append.Content);
                w.EndObject();
                break;
            default:
                throw new ArgumentException($"unknown patch {patch.GetType().Name}", nameof(patch));
        }
        w.EndObject();
    }

    public static void Network(SerdeJsonWriter w, NetworkSpec n)
    {
        w.StartObject();
        w.Field("enabled", n.Enabled);
        OptionalValue(w, "interface", n.Interface);
        w.Name("ports"); List(w, n.Ports, Port);
        OptionalValue(w, "policy", n.Policy);
        OptionalValue(w, "dns", n.Dns);
        OptionalValue(w, "tls", n.Tls);
        OptionalValue(w, "secrets", n.Secrets);
        w.Field("max_connections", n.MaxConnections);
        w.Field("trust_host_cas", n.TrustHostCas);
        w.EndObject();
    }

    public static void Port(SerdeJsonWriter w, PublishedPortSpec p)
    {
        w.StartObject();
        w.Field("host_port", p.HostPort);
        w.Field("guest_port", p.GuestPort);
        w.Field("protocol", WireNames.Name(p.Protocol));
        w.Field("host_bind", p.HostBind);
        w.EndObject();
    }

    public static void Init(SerdeJsonWriter w, HandoffInit init)
    {
        w.StartObject();
        w.Field("cmd", init.Cmd);
        w.Name("args"); List(w, init.Args, (ww, s) => ww.String(s));
        w.Name("env"); Pairs(w, init.Env);
        w.EndObject();
    }

    public static void Policy(SerdeJsonWriter w, SandboxPolicy p)
    {
        w.StartObject();
        w.Field("ephemeral", p.Ephemeral);
        w.Field("max_duration_secs", p.MaxDurationSecs);
        w.Field("idle_timeout_secs", p.IdleTimeoutSecs);
        w.EndObject();
    }

    public static void Destination(SerdeJsonWriter w, SnapshotDestination d)
    {
        w.StartObject();
        switch (d)
        {
            case SnapshotDestination.Name name: w.Field("Name", name.Value); break;
            case SnapshotDestination.Path path: w.Field("Path", path.Value); break;
            default: throw new ArgumentException($"unknown snapshot destination {d.GetType().Name}", nameof(d));
        }
        w.EndObject();
    }

    public static void Snapshot(SerdeJsonWriter w, SnapshotSpec s)
    {
        w.StartObject();
        w.Field("source_sandbox", s.SourceSandbox);
        w.Name("destination"); Destination(w, s.Destination);
        w.Name("labels"); Pairs(w, s.Labels);
        w.Field("force", s.Force);
        w.Field("record_integrity", s.RecordIntegrity);
        w.EndObject();
    }

    public static void Env(SerdeJsonWriter w, EnvVar e)
    {
        w.StartObject();
        w.Field("key", e.Key);
        w.Field("value", e.Value);
        w.EndObject();
    }

    public static void RlimitValue(SerdeJsonWriter w, Rlimit r)
    {
        w.StartObject();
        w.Field("resource", WireNames.Name(r.Resource));
        w.Field("soft", r.Soft);
        w.Field("hard", r.Hard);
        w.EndObject();
    }

    private static void List<T>(SerdeJsonWriter w, IReadOnlyList<T> items, Action<SerdeJsonWriter, T> item)
    {
        w.StartArray();
        foreach (var value in items) item(w, value);
        w.EndArray();
    }

    private static void OptionalStrings(SerdeJsonWriter w, IReadOnlyList<string>? items)
    {
        if (items is null) w.Null();
        else List(w, items, (ww, s) => ww.String(s));
    }

    private static void Pairs(SerdeJsonWriter w, IReadOnlyList<(string Key, string Value)> pairs)
    {
        w.StartArray();
        foreach (var (key, value) in pairs)
        {
            w.StartArray();
            w.String(key);
            w.String(value);
            w.EndArray();
        }
        w.EndArray();
    }

    private static void SortedMap(SerdeJsonWriter w, IReadOnlyDictionary<string, string> map)
    {
        w.StartObject();
        foreach (var key in map.Keys.Order(Utf8OrdinalComparer.Instance)) w.Field(key, map[key]);
        w.EndObject();
    }

    private static void OptionalValue(SerdeJsonWriter w, string name, JsonElement? value)
    {
        // serde skips None; a JSON null stored here would read back as None, so skip it too.
        if (value is not { } element || element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined) return;
        w.Name(name);
        JsonValueWriter.Write(w, element);
    }
}
