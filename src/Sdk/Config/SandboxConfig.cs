using System.Collections.Immutable;
using Microsandbox.Spec;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Config;

/// <summary>
/// A sandbox's configuration: the durable, wire-compatible <see cref="SandboxSpec"/> plus local operation
/// state that never travels with it (registry credentials, the replace flag, snapshot and command intent).
/// Immutable: every transformation returns a new config. The defaulting rules follow upstream
/// microsandbox 0.6.2 <c>sandbox/config.rs</c>.
/// </summary>
public sealed record SandboxConfig
{
    /// <summary>The OCI writable upper size applied when none is configured: 4096 MiB.</summary>
    public const uint DefaultOciUpperSizeMib = 4 * 1024;

    /// <summary>How much a guest may add to a bind-mounted directory when the mount sets no quota (MiB).</summary>
    public const uint DefaultBindQuotaMib = DefaultOciUpperSizeMib;

    /// <summary>Guest path of the tmpfs OCI sandboxes get by default.</summary>
    public const string DefaultOciTmpfsPath = "/tmp";

    /// <summary>Largest default <c>/tmp</c> tmpfs, in MiB.</summary>
    public const uint DefaultOciTmpfsMaxSizeMib = 512;

    /// <summary>The default <c>/tmp</c> tmpfs gets guest memory divided by this.</summary>
    public const uint DefaultOciTmpfsMemoryDivisor = 4;

    /// <summary>How long a replaced sandbox gets between SIGTERM and SIGKILL by default.</summary>
    public static readonly TimeSpan DefaultReplaceTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Init paths that, found first in an image entrypoint, let <c>init = "auto"</c> resolve to them.</summary>
    public static readonly IReadOnlyList<string> HandoffInitImageEntrypointCandidates =
        ["/init", "/sbin/init", "/lib/systemd/systemd", "/usr/lib/systemd/systemd"];

    /// <summary>The backend-neutral sandbox description shared with upstream.</summary>
    public SandboxSpec Spec { get; init; } = new();

    /// <summary>Registry credentials for private images. Used only for the pull; never serialised.</summary>
    public RegistryAuth? RegistryAuth { get; init; }

    /// <summary>Talk to the registry over plain HTTP. Never serialised.</summary>
    public bool Insecure { get; init; }

    /// <summary>Extra PEM-encoded CA roots for the registry. Never serialised.</summary>
    public IReadOnlyList<byte[]> CaCerts { get; init; } = [];

    /// <summary>Replace an existing sandbox of the same name on create (stop it first if it runs). Never serialised.</summary>
    public bool ReplaceExisting { get; init; }

    /// <summary>
    /// During a replace, how long the old sandbox gets after SIGTERM before SIGKILL; zero skips SIGTERM.
    /// Never serialised.
    /// </summary>
    public TimeSpan ReplaceTimeout { get; init; } = DefaultReplaceTimeout;

    /// <summary>Manifest digest of the resolved OCI image, set at create time; persisted as <c>manifest_digest</c>.</summary>
    public string? ManifestDigest { get; init; }

    /// <summary>A snapshot's <c>upper.ext4</c> to copy into the new sandbox instead of formatting a fresh upper. Transient.</summary>
    public string? SnapshotUpperSource { get; init; }

    /// <summary>Whether <c>runtime.cmd</c> should be launched after boot (detached run). Transient.</summary>
    public bool StartupCommandRequested { get; init; }

    /// <summary>
    /// The signal that stops the main process: a name (<c>SIGINT</c>, <c>INT</c>) or number; null takes the image's
    /// <c>STOPSIGNAL</c>, else SIGTERM. Transient.
    /// </summary>
    public string? StopSignal { get; init; }

    /// <summary>How long a stop waits after the stop signal before SIGKILL (default 10 s, as Docker). Transient.</summary>
    public TimeSpan StopTimeout { get; init; } = DefaultStopTimeout;

    /// <summary>Keep the VM running after the main process ended, instead of stopping it as a container stops. Transient.</summary>
    public bool KeepVmAfterMainProcess { get; init; }

    /// <summary>The health check of the main process (the image's <c>HEALTHCHECK</c> unless set). Transient.</summary>
    public ImageHealthcheck? Healthcheck { get; init; }

    /// <summary>
    /// Publish every port the image exposes (<c>EXPOSE</c>) on a free host port, as <c>docker run -P</c> does; ports
    /// the spec already publishes keep their mapping. Transient.
    /// </summary>
    public bool PublishExposedPorts { get; init; }

    /// <summary>
    /// QEMU engine: resume from a ready-state template of this shape (the guest saved after its main process started
    /// and the waits held) when there is one; otherwise boot cold and save one once the waits hold. Transient.
    /// </summary>
    public bool ReadyStateSnapshot { get; init; }

    /// <summary>
    /// With <see cref="ReadyStateSnapshot"/>: when the engine or the settings cannot save a running guest, boot cold
    /// (and log why) instead of refusing. What modules ask for. Transient.
    /// </summary>
    public bool ReadyStateSnapshotWhenSupported { get; init; }

    /// <summary>Boot the existing, stopped sandbox of this name again (its row, logs and volumes kept). Transient.</summary>
    internal bool RestartExisting { get; init; }

    /// <summary>Files copied into the guest before the main process starts (or before create returns). Transient.</summary>
    public IReadOnlyList<GuestFile> Files { get; init; } = [];

    /// <summary>What must hold before create returns, in order (<see cref="SandboxBuilder.WaitFor"/>). Transient.</summary>
    public IReadOnlyList<WaitStrategy> Waits { get; init; } = [];

    /// <summary>Docker's default stop grace period.</summary>
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(10);

    /// <summary>One-shot foreground command of an attached run. Transient.</summary>
    public IReadOnlyList<string>? InitialCommand { get; init; }

    /// <summary>Wraps a spec with default operation flags.</summary>
    public static SandboxConfig FromSpec(SandboxSpec spec) =>
        new() { Spec = spec ?? throw new ArgumentNullException(nameof(spec)) };

    /// <summary>
    /// The metrics sampling interval in milliseconds that actually applies: null when sampling is disabled
    /// or the interval is unset or zero.
    /// </summary>
    public ulong? EffectiveMetricsIntervalMs =>
        Spec.Runtime.DisableMetricsSample || Spec.Runtime.MetricsSampleIntervalMs is null or 0
            ? null
            : Spec.Runtime.MetricsSampleIntervalMs;

    /// <summary>The guest-write quota that applies to a bind mount: its own, else <see cref="DefaultBindQuotaMib"/>.</summary>
    public static uint EffectiveBindQuotaMib(VolumeMount.Bind mount) =>
        (mount ?? throw new ArgumentNullException(nameof(mount))).QuotaMib ?? DefaultBindQuotaMib;

    /// <summary>
    /// Applies the defaults that need no image config, in upstream's create order: the OCI upper size
    /// (<see cref="WithRootfsDefaults"/>), then the default <c>/tmp</c> tmpfs (<see cref="WithRuntimeDefaults"/>).
    /// </summary>
    /// <param name="ociUpperSizeMib">Backend-configured upper size; null uses <see cref="DefaultOciUpperSizeMib"/>.</param>
    public SandboxConfig WithDefaults(uint? ociUpperSizeMib = null) =>
        WithRootfsDefaults(ociUpperSizeMib).WithRuntimeDefaults();

    /// <summary>
    /// The spec after the defaults that apply without an image config (<see cref="WithDefaults"/>): what
    /// <c>microsandbox spec defaults FILE</c> prints.
    /// </summary>
    /// <param name="spec">The spec as written by the user.</param>
    /// <param name="ociUpperSizeMib">Backend-configured upper size; null uses <see cref="DefaultOciUpperSizeMib"/>.</param>
    public static SandboxSpec ApplyDefaults(SandboxSpec spec, uint? ociUpperSizeMib = null) =>
        FromSpec(spec).WithDefaults(ociUpperSizeMib).Spec;

    /// <summary>
    /// Gives an OCI root without an upper size the backend's size, else 4096 MiB. Skipped when a snapshot
    /// upper is being restored (its size is the snapshot's).
    /// </summary>
    public SandboxConfig WithRootfsDefaults(uint? ociUpperSizeMib = null)
    {
        if (SnapshotUpperSource is not null || Spec.Image is not RootfsSource.Oci { Source.UpperSizeMib: null } oci)
        {
            return this;
        }
        var sized = oci with { Source = oci.Source with { UpperSizeMib = ociUpperSizeMib ?? DefaultOciUpperSizeMib } };
        return this with { Spec = Spec with { Image = sized } };
    }

    /// <summary>
    /// Gives an OCI sandbox a <c>/tmp</c> tmpfs of memory/4 MiB (clamped to 1..512) unless a mount already
    /// targets <c>/tmp</c> (trailing slashes ignored). Bind and disk-image roots bring their own <c>/tmp</c>.
    /// </summary>
    public SandboxConfig WithRuntimeDefaults()
    {
        if (Spec.Image is not RootfsSource.Oci || Spec.Mounts.Any(m => SameGuestPath(m.Guest, DefaultOciTmpfsPath)))
        {
            return this;
        }
        var tmp = new VolumeMount.Tmpfs
        {
            Guest = DefaultOciTmpfsPath,
            SizeMib = DefaultOciTmpfsSizeMib(Spec.Resources.MemoryMib),
            Options = new MountOptions(),
        };
        return this with { Spec = Spec with { Mounts = [.. Spec.Mounts, tmp] } };
    }

    /// <summary>
    /// Applies an OCI image's config under the user's settings:
    /// env — image entries are the base, user entries override by key or append;
    /// labels — image labels are the base (reserved-prefix and empty keys dropped), user labels win;
    /// cmd, entrypoint, workdir, user — the image's value only where the user set none (empty strings count as none);
    /// init — <c>auto</c> resolves to a known init at the start of the image entrypoint.
    /// </summary>
    /// <param name="image">The image's config.</param>
    /// <param name="logger">Receives a warning for each malformed image env entry that is skipped.</param>
    public SandboxConfig MergeImageDefaults(ImageConfig image, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        var runtime = Spec.Runtime;
        var inheritEntrypoint = runtime.Entrypoint is null;
        runtime = runtime with
        {
            // Docker's rule: an entrypoint of the user's own drops the image's CMD, which was written for the image's.
            Cmd = runtime.Cmd ?? (inheritEntrypoint ? image.Cmd : null),
            Entrypoint = runtime.Entrypoint ?? image.Entrypoint,
            Workdir = runtime.Workdir ?? NoneIfEmpty(image.WorkingDir),
            User = runtime.User ?? NoneIfEmpty(image.User),
        };
        var merged = this with
        {
            StopSignal = StopSignal ?? NoneIfEmpty(image.StopSignal),
            Healthcheck = Healthcheck ?? image.Healthcheck,
            Spec = Spec with
            {
                Env = MergeEnv(image.Env, Spec.Env, logger),
                Labels = MergeImageLabels(image.Labels, Spec.Labels),
                Runtime = runtime,
                Network = PublishExposedPorts ? Spec.Network with { Ports = WithExposedPorts(Spec.Network.Ports, image.ExposedPorts, logger) } : Spec.Network,
            },
        };
        return merged.ResolveAutoInitFromImageEntrypoint(image.Entrypoint, inheritEntrypoint);
    }

    /// <summary>
    /// Sets the one-shot foreground command of an attached run (empty: none) and drops detached startup intent.
    /// </summary>
    public SandboxConfig WithInitialCommand(IEnumerable<string> command)
    {
        var argv = command.ToImmutableArray();
        return this with { InitialCommand = argv.IsEmpty ? null : argv, StartupCommandRequested = false };
    }

    /// <summary>
    /// Sets the startup command of a detached run: a non-empty command becomes <c>runtime.cmd</c> and is
    /// launched after boot; an empty one keeps the existing <c>runtime.cmd</c> and requests nothing.
    /// </summary>
    public SandboxConfig WithPersistentInitialCommand(IEnumerable<string> command)
    {
        var argv = command.ToImmutableArray();
        if (argv.IsEmpty)
        {
            return this with { StartupCommandRequested = false, InitialCommand = null };
        }
        return this with
        {
            Spec = Spec with { Runtime = Spec.Runtime with { Cmd = argv } },
            StartupCommandRequested = true,
            InitialCommand = null,
        };
    }

    /// <summary>
    /// The shape persisted for future starts: no one-shot command intent, and no named-volume creation
    /// intent (a restart mounts the volume that now exists).
    /// </summary>
    public SandboxConfig ForPersistence() => this with
    {
        StartupCommandRequested = false,
        InitialCommand = null,
        Spec = Spec with
        {
            Mounts = [.. Spec.Mounts.Select(m => m is VolumeMount.Named { Create: not null } named ? named with { Create = null } : m)],
        },
    };

    /// <summary>
    /// The persisted JSON: the spec's fields (exactly as <see cref="SpecJson.Serialize(SandboxSpec)"/> writes them)
    /// followed by <c>manifest_digest</c>. Registry credentials and operation flags are never written.
    /// </summary>
    public string ToJson() => SandboxConfigJson.Write(this);

    /// <summary>Reads persisted config JSON (spec fields plus <c>manifest_digest</c>); operation flags take their defaults.</summary>
    /// <exception cref="SpecJsonException">The JSON is malformed or breaks a rule; every problem is listed with its path.</exception>
    public static SandboxConfig FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var result = SandboxConfigJson.Read(json);
        return result.IsValid ? result.Value! : throw new SpecJsonException(result.Errors);
    }

    /// <summary>Reads persisted config JSON, returning every error and warning (such as unknown fields) instead of throwing.</summary>
    public static SpecReadResult<SandboxConfig> ReadJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return SandboxConfigJson.Read(json);
    }

    /// <summary>The default <c>/tmp</c> tmpfs size for a guest memory size: memory/4, clamped to 1..512 MiB.</summary>
    public static uint DefaultOciTmpfsSizeMib(uint memoryMib) =>
        Math.Clamp(memoryMib / DefaultOciTmpfsMemoryDivisor, 1u, DefaultOciTmpfsMaxSizeMib);

    /// <summary>
    /// The spec's ports plus one for each exposed <c>PORT[/tcp|/udp]</c> not published yet, host port 0 (a free one is
    /// picked at start). Entries that are not a port are skipped with a warning.
    /// </summary>
    internal static IReadOnlyList<PublishedPortSpec> WithExposedPorts(IReadOnlyList<PublishedPortSpec> ports, IEnumerable<string> exposed, ILogger? logger = null)
    {
        var result = ports.ToList();
        foreach (var entry in exposed)
        {
            var slash = entry.IndexOf('/');
            var number = slash < 0 ? entry : entry[..slash];
            PortProtocol? protocol = (slash < 0 ? "tcp" : entry[(slash + 1)..].ToLowerInvariant()) switch
            {
                "tcp" => PortProtocol.Tcp,
                "udp" => PortProtocol.Udp,
                _ => null,
            };
            if (protocol is null || !ushort.TryParse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port == 0)
            {
                logger?.LogWarning("skipping exposed port {Entry} (expected PORT, PORT/tcp or PORT/udp)", entry);
                continue;
            }
            if (result.Any(p => p.GuestPort == port && p.Protocol == protocol)) continue;
            result.Add(new PublishedPortSpec { HostPort = 0, GuestPort = port, Protocol = protocol.Value });
        }
        return result;
    }

    /// <summary>Base entries survive unless an override has the same key; then every override is appended.</summary>
    internal static IReadOnlyList<EnvVar> MergeEnvPairs(IEnumerable<EnvVar> baseEnv, IReadOnlyList<EnvVar> overrides)
    {
        var overridden = overrides.Select(v => v.Key).ToHashSet(StringComparer.Ordinal);
        return [.. baseEnv.Where(v => !overridden.Contains(v.Key)), .. overrides];
    }

    /// <summary>Merges image env (<c>KEY=VALUE</c> strings, malformed ones skipped) under user env.</summary>
    internal static IReadOnlyList<EnvVar> MergeEnv(IEnumerable<string> imageEnv, IReadOnlyList<EnvVar> userEnv, ILogger? logger = null)
    {
        var baseEnv = new List<EnvVar>();
        foreach (var entry in imageEnv)
        {
            var eq = entry.IndexOf('=');
            if (eq < 0)
            {
                logger?.LogWarning("skipping malformed image env var {Entry} (expected KEY=VALUE)", entry);
                continue;
            }
            baseEnv.Add(new EnvVar(entry[..eq], entry[(eq + 1)..]));
        }
        return MergeEnvPairs(baseEnv, userEnv);
    }

    private static IReadOnlyDictionary<string, string> MergeImageLabels(
        IReadOnlyDictionary<string, string> imageLabels, IReadOnlyDictionary<string, string> userLabels)
    {
        var merged = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in imageLabels)
        {
            // Reserved or empty keys would bypass user-label validation, which ran before the pull.
            if (key.Length != 0 && SandboxRules.ReservedLabelPrefix(key) is null)
            {
                merged[key] = value;
            }
        }
        foreach (var (key, value) in userLabels)
        {
            merged[key] = value;
        }
        return merged.ToImmutable();
    }

    /// <summary>
    /// Docker starts a container as ENTRYPOINT + CMD; when that ENTRYPOINT is an init binary and the user
    /// asked for <c>init = "auto"</c>, the init must own the resolved argv as PID 1, or state it sets up
    /// (such as s6's PATH) would be skipped by commands launched later through the agent.
    /// </summary>
    private SandboxConfig ResolveAutoInitFromImageEntrypoint(IReadOnlyList<string>? imageEntrypoint, bool inheritedEntrypoint)
    {
        if (Spec.Init is not { Cmd: SandboxRules.HandoffInitAuto } init || imageEntrypoint is null || imageEntrypoint.Count == 0)
        {
            return this;
        }
        var initPath = imageEntrypoint[0];
        if (!HandoffInitImageEntrypointCandidates.Contains(initPath))
        {
            return this;
        }
        if (!inheritedEntrypoint)
        {
            // The user's own entrypoint stays the workload; only PID 1 changes.
            var kept = init with { Cmd = initPath, Env = MergeInitEnv(Spec.Env, init.Env) };
            return this with { Spec = Spec with { Init = kept } };
        }
        if (Spec.Runtime.Entrypoint is not { } entrypoint)
        {
            return this;
        }
        var tail = entrypoint.Count > 0 && entrypoint[0] == initPath ? entrypoint.Skip(1).ToArray() : entrypoint.ToArray();
        var runtimeCmd = InitialCommand ?? Spec.Runtime.Cmd ?? [];
        var resolved = init with
        {
            Cmd = initPath,
            Args = [.. init.Args, .. tail, .. runtimeCmd],
            Env = MergeInitEnv(Spec.Env, init.Env),
        };
        return this with
        {
            // The startup command is now part of PID 1's argv; launching it again would run it twice.
            StartupCommandRequested = false,
            Spec = Spec with
            {
                Init = resolved,
                Runtime = Spec.Runtime with { Entrypoint = tail.Length == 0 ? null : tail },
            },
        };
    }

    private static IReadOnlyList<(string Key, string Value)> MergeInitEnv(
        IReadOnlyList<EnvVar> baseEnv, IReadOnlyList<(string Key, string Value)> overrides) =>
        [.. MergeEnvPairs(baseEnv, [.. overrides.Select(p => new EnvVar(p.Key, p.Value))]).Select(v => v.AsPair())];

    private static string? NoneIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static bool SameGuestPath(string a, string b) => NormalizedGuestPath(a) == NormalizedGuestPath(b);

    private static string NormalizedGuestPath(string path)
    {
        var trimmed = path.TrimEnd('/');
        return trimmed.Length == 0 ? "/" : trimmed;
    }
}
