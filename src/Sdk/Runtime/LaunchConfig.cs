using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Microsandbox.Runtime;

/// <summary>
/// What a sandbox process needs beyond its argv, delivered as JSON on the inherited config fd (upstream
/// <c>crates/runtime/lib/launch.rs</c>). Field names are upstream's so that <c>msb sandbox</c> accepts the same
/// document; <see cref="Qemu"/> is our extension, which <c>msb</c> ignores.
/// </summary>
public sealed record LaunchConfig
{
    /// <summary>The state database the process records its run in.</summary>
    [JsonPropertyName("db_path")] public string DbPath { get; init; } = "";
    /// <summary>How long to wait for the database before giving up.</summary>
    [JsonPropertyName("db_connect_timeout_secs")] public ulong DbConnectTimeoutSecs { get; init; } = 30;
    /// <summary><c>sandboxes/NAME/logs</c>.</summary>
    [JsonPropertyName("log_dir")] public string LogDir { get; init; } = "";
    /// <summary><c>sandboxes/NAME/runtime</c>.</summary>
    [JsonPropertyName("runtime_dir")] public string RuntimeDir { get; init; } = "";
    /// <summary><c>sandboxes/</c>.</summary>
    [JsonPropertyName("sandboxes_dir")] public string SandboxesDir { get; init; } = "";
    /// <summary><c>run/</c>.</summary>
    [JsonPropertyName("run_dir")] public string RunDir { get; init; } = "";
    /// <summary><c>run/cpu-leases</c> (libkrun CPU placement).</summary>
    [JsonPropertyName("cpu_lease_dir")] public string CpuLeaseDir { get; init; } = "";
    /// <summary><c>run/writeback-leases</c> (libkrun block writeback).</summary>
    [JsonPropertyName("writeback_lease_dir")] public string WritebackLeaseDir { get; init; } = "";
    /// <summary>CPU placement policy: inherit, auto, spread, compact.</summary>
    [JsonPropertyName("cpu_placement")] public string CpuPlacement { get; init; } = "inherit";
    /// <summary>The relay socket the process serves.</summary>
    [JsonPropertyName("agent_sock")] public string AgentSock { get; init; } = "";
    /// <summary>libkrunfw for <c>msb</c>; unused by the QEMU engine.</summary>
    [JsonPropertyName("libkrunfw_path")] public string LibkrunfwPath { get; init; } = "";
    /// <summary>Transparent huge page policy for guest memory.</summary>
    [JsonPropertyName("thp")] public string Thp { get; init; } = "madvise";
    /// <summary>The main process the sandbox process starts once the guest is ready; null: none.</summary>
    [JsonPropertyName("startup")] public StartupCommand? Startup { get; init; }
    /// <summary>Idle timeout and maximum duration.</summary>
    [JsonPropertyName("lifecycle")] public LaunchLifecycle Lifecycle { get; init; } = new();
    /// <summary>Metrics sampling.</summary>
    [JsonPropertyName("metrics")] public LaunchMetrics Metrics { get; init; } = new();
    /// <summary>Where the root filesystem comes from.</summary>
    [JsonPropertyName("rootfs")] public LaunchRootfs Rootfs { get; init; } = new();
    /// <summary>Directory shares, <c>TAG:HOST[:opts]</c>.</summary>
    [JsonPropertyName("mounts")] public IReadOnlyList<string> Mounts { get; init; } = [];
    /// <summary>Extra block devices, <c>ID:HOST:FORMAT[:ro]</c>.</summary>
    [JsonPropertyName("disks")] public IReadOnlyList<string> Disks { get; init; } = [];
    /// <summary>A guest init to hand PID 1 to after setup.</summary>
    [JsonPropertyName("init_path")] public string? InitPath { get; init; }
    /// <summary>The guest configuration sent as the first frame (<c>core.bootstrap</c>).</summary>
    [JsonPropertyName("bootstrap")] public JsonObject Bootstrap { get; init; } = new();
    /// <summary>Guest exec path override.</summary>
    [JsonPropertyName("exec_path")] public string? ExecPath { get; init; }
    /// <summary>Guest exec arguments.</summary>
    [JsonPropertyName("exec_args")] public IReadOnlyList<string> ExecArgs { get; init; } = [];
    /// <summary>Network configuration (upstream's network crate); the QEMU engine reads <see cref="Qemu"/> instead.</summary>
    [JsonPropertyName("network")] public JsonNode? Network { get; init; }
    /// <summary>single_tenant or multi_tenant.</summary>
    [JsonPropertyName("deployment_profile")] public string DeploymentProfile { get; init; } = "single_tenant";
    /// <summary>Network slot (the sandbox id).</summary>
    [JsonPropertyName("sandbox_slot")] public ulong SandboxSlot { get; init; }
    /// <summary>vsock routes.</summary>
    [JsonPropertyName("vsock")] public IReadOnlyList<JsonNode> Vsock { get; init; } = [];
    /// <summary>QEMU engine settings; absent for libkrun.</summary>
    [JsonPropertyName("qemu")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public QemuLaunch? Qemu { get; init; }

    /// <summary>Serialises the document as the process reads it.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, LaunchJson.Default.LaunchConfig);

    /// <summary>Reads a document; errors name the problem.</summary>
    public static LaunchConfig FromJson(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, LaunchJson.Default.LaunchConfig)
                ?? throw new MicrosandboxException("invalid launch config: empty document");
        }
        catch (JsonException e)
        {
            throw new MicrosandboxException($"invalid launch config: {e.Message}", e);
        }
    }
}

/// <summary>Upstream's <c>Lifecycle</c>.</summary>
public sealed record LaunchLifecycle
{
    /// <summary>Hard limit on the sandbox's lifetime.</summary>
    [JsonPropertyName("max_duration_secs")] public ulong? MaxDurationSecs { get; init; }
    /// <summary>Stop after this long without relay traffic.</summary>
    [JsonPropertyName("idle_timeout_secs")] public ulong? IdleTimeoutSecs { get; init; }
}

/// <summary>Upstream's <c>MetricsConfig</c>.</summary>
public sealed record LaunchMetrics
{
    /// <summary>Sampling interval.</summary>
    [JsonPropertyName("sample_interval_ms")] public ulong SampleIntervalMs { get; init; }
    /// <summary>True when sampling is off.</summary>
    [JsonPropertyName("disabled")] public bool Disabled { get; init; }
    /// <summary>Shared-memory slot handoff (libkrun only).</summary>
    [JsonPropertyName("slot")] public JsonNode? Slot { get; init; }
}

/// <summary>Upstream's <c>RootfsConfig</c>.</summary>
public sealed record LaunchRootfs
{
    /// <summary>A host directory used as the root.</summary>
    [JsonPropertyName("path")] public string? Path { get; init; }
    /// <summary>Follow symlinks at the share root.</summary>
    [JsonPropertyName("follow_root_symlinks")] public bool FollowRootSymlinks { get; init; }
    /// <summary>A disk image used as the root (or the OCI lower).</summary>
    [JsonPropertyName("disk")] public string? Disk { get; init; }
    /// <summary>raw, qcow2 or vmdk.</summary>
    [JsonPropertyName("disk_format")] public string? DiskFormat { get; init; }
    /// <summary>Attach the root disk read-only.</summary>
    [JsonPropertyName("disk_readonly")] public bool DiskReadonly { get; init; }
    /// <summary>The writable OCI upper layer image.</summary>
    [JsonPropertyName("upper")] public string? Upper { get; init; }
    /// <summary>Format of <see cref="Upper"/> when it is a user disk.</summary>
    [JsonPropertyName("upper_format")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? UpperFormat { get; init; }
}

/// <summary>Our extension: what the QEMU sandbox process needs to boot the guest.</summary>
public sealed record QemuLaunch
{
    /// <summary>Absolute path of <c>qemu-system-x86_64</c>.</summary>
    [JsonPropertyName("binary")] public string Binary { get; init; } = "";
    /// <summary>The uncompressed ELF kernel (PVH entry).</summary>
    [JsonPropertyName("kernel")] public string Kernel { get; init; } = "";
    /// <summary>The initramfs holding our guest agent as /init.</summary>
    [JsonPropertyName("initrd")] public string Initrd { get; init; } = "";
    /// <summary>kvm or tcg.</summary>
    [JsonPropertyName("accel")] public string Accel { get; init; } = "tcg";
    /// <summary>Host TSC frequency for <c>tsc_early_khz</c> (0 when unknown).</summary>
    [JsonPropertyName("tsc_khz")] public ulong TscKhz { get; init; }
    /// <summary>Published ports.</summary>
    [JsonPropertyName("ports")] public IReadOnlyList<QemuPortForward> Ports { get; init; } = [];
    /// <summary>Attach a user-mode NIC even without ports.</summary>
    [JsonPropertyName("network")] public bool Network { get; init; }
    /// <summary>
    /// The complete VMM argv (program first), computed by the engine from this document, so the sandbox process can
    /// start QEMU before it has deserialised the rest. Empty: the process builds it itself.
    /// </summary>
    [JsonPropertyName("argv")] public IReadOnlyList<string> Argv { get; init; } = [];
    /// <summary>
    /// A saved template state to resume instead of booting (the argv then ends in <c>-incoming fd:3</c>); the
    /// sandbox process opens it as QEMU's fd 3 and adds the current time and fresh entropy to the bootstrap.
    /// </summary>
    [JsonPropertyName("restore_state")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RestoreState { get; init; }
    /// <summary>How long the guest agent may take to say ready.</summary>
    [JsonPropertyName("ready_timeout_secs")] public ulong ReadyTimeoutSecs { get; init; } = 60;

    /// <summary>The VM's QMP monitor socket (<c>-qmp</c> in the argv), when the sandbox may be asked to save a ready-state template.</summary>
    [JsonPropertyName("qmp_socket")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? QmpSocket { get; init; }

    /// <summary>Where this sandbox saves its shape's ready-state template when a client asks (<c>msb.snapshot.save</c>).</summary>
    [JsonPropertyName("ready_template")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ReadyTemplate { get; init; }

    /// <summary>Set when <see cref="RestoreState"/> is a ready-state template: the guest is resumed, not bootstrapped.</summary>
    [JsonPropertyName("ready_resume")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public QemuReadyResume? ReadyResume { get; init; }
    /// <summary>
    /// Variables QEMU starts with on top of the sandbox process's: the network policy's host-side filter
    /// (<c>LD_PRELOAD</c> of <c>libmsb-netfilter.so</c>) and the policy it enforces (<c>MSB_NET_POLICY</c>).
    /// </summary>
    [JsonPropertyName("environment")] public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}

/// <summary>What a clone of a ready-state template takes over from it.</summary>
/// <param name="Template">The template's directory (its main process's log up to the save is copied from there).</param>
/// <param name="MainSessionId">The exec session id of the main process, already running in the saved guest.</param>
public sealed record QemuReadyResume(
    [property: JsonPropertyName("template")] string Template,
    [property: JsonPropertyName("main_session_id")] uint MainSessionId);

/// <summary>One host→guest TCP/UDP forward.</summary>
/// <param name="Protocol">tcp or udp.</param>
/// <param name="HostBind">Host address to listen on.</param>
/// <param name="HostPort">Host port.</param>
/// <param name="GuestPort">Guest port.</param>
public sealed record QemuPortForward(
    [property: JsonPropertyName("protocol")] string Protocol,
    [property: JsonPropertyName("host_bind")] string HostBind,
    [property: JsonPropertyName("host_port")] ushort HostPort,
    [property: JsonPropertyName("guest_port")] ushort GuestPort);

/// <summary>
/// The serializer both sides of the config fd use, generated at compile time: the sandbox process reads this document
/// before it can start the VMM, and reflection-based (de)serialisation costs it tens of milliseconds of start-up.
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never, WriteIndented = false)]
[JsonSerializable(typeof(LaunchConfig))]
internal sealed partial class LaunchJson : JsonSerializerContext;
