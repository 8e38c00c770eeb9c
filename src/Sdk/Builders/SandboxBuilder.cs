using System.Collections.Immutable;
using System.Net;
using Microsandbox.Config;
using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>
/// Fluent, immutable builder of a <see cref="SandboxConfig"/>: every method returns a new builder, so a
/// base builder can be shared and specialised freely. Method names mirror upstream's Rust
/// <c>SandboxBuilder</c>. Misuse is recorded and reported by <see cref="Build"/>, which validates the
/// whole configuration and throws <see cref="InvalidConfigException"/> naming the field and the rule.
/// </summary>
/// <example>
/// <code>
/// var config = new SandboxBuilder("worker")
///     .Image("python:3.12")
///     .Cpus(2).Memory(1024)
///     .Env("MODE", "test")
///     .Volume("/data", m => m.Bind("/srv/data").Readonly())
///     .Port(8080, 80)
///     .Build();
/// </code>
/// </example>
public sealed class SandboxBuilder
{
    private SandboxConfig _config;
    private string? _error;

    /// <summary>Starts a sandbox named <paramref name="name"/> from built-in defaults (1 vCPU, 512 MiB).</summary>
    /// <param name="name">Unique name: 1..128 bytes, alphanumeric first, then alphanumerics, <c>.</c>, <c>-</c>, <c>_</c>.</param>
    public SandboxBuilder(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        _config = new SandboxConfig { Spec = new SandboxSpec { Name = name } };
    }

    private SandboxBuilder(SandboxConfig config) => _config = config;

    /// <summary>Seeds a builder from a full spec; later calls override single fields.</summary>
    public static SandboxBuilder FromSpec(SandboxSpec spec) => new(SandboxConfig.FromSpec(spec));

    /// <summary>Seeds a builder from sandbox spec JSON (upstream <c>from_spec_json</c>); later calls override single fields.</summary>
    /// <exception cref="InvalidConfigException">The JSON is not a readable spec; the message lists each problem with its path.</exception>
    public static SandboxBuilder FromSpecJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var result = SpecJson.Read(json);
        if (!result.IsValid)
        {
            throw new InvalidConfigException(string.Join("; ", result.Errors));
        }
        return FromSpec(result.Value!);
    }

    /// <summary>Seeds a builder from an existing config (spec and operation flags).</summary>
    public static SandboxBuilder FromConfig(SandboxConfig config) =>
        new(config ?? throw new ArgumentNullException(nameof(config)));

    // ---- Root filesystem -------------------------------------------------------------------------

    /// <summary>
    /// Sets the root filesystem. Text that is <c>.</c>, <c>..</c> or starts with <c>/</c>, <c>./</c>, <c>../</c> is a
    /// local path — a disk image for <c>.qcow2</c>/<c>.raw</c>/<c>.vmdk</c>, else a directory to bind; any other
    /// text is an OCI reference. <see cref="ImageSource.FromPath"/> (or a <see cref="DirectoryInfo"/>) is always local.
    /// </summary>
    public SandboxBuilder Image(ImageSource image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return SetSpec(s => s with { Image = image.ToRootfsSource() });
    }

    /// <summary>Sets the root filesystem with an <see cref="ImageBuilder"/> (same as <see cref="ImageWith"/>).</summary>
    public SandboxBuilder Image(Func<ImageBuilder, ImageBuilder> configure) => ImageWith(configure);

    /// <summary>Sets the root filesystem with an <see cref="ImageBuilder"/>, e.g. <c>i =&gt; i.Disk("./os.qcow2").Fstype("ext4")</c>.</summary>
    public SandboxBuilder ImageWith(Func<ImageBuilder, ImageBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        RootfsSource source;
        try
        {
            source = configure(new ImageBuilder()).Build();
        }
        catch (InvalidConfigException e)
        {
            return Fail(e.Message);
        }
        return SetSpec(s => s with { Image = source });
    }

    /// <summary>Sets the writable overlay upper size (MiB) of the OCI image already set.</summary>
    public SandboxBuilder OciUpperSize(uint sizeMib) => _config.Spec.Image switch
    {
        RootfsSource.Oci { Source.Reference.Length: > 0 } oci =>
            SetSpec(s => s with { Image = oci with { Source = oci.Source with { UpperSizeMib = sizeMib } } }),
        RootfsSource.Oci => Fail("oci_upper_size() requires an OCI image to be set first"),
        _ => Fail("oci_upper_size() is only valid for OCI images"),
    };

    /// <summary>Sets when the registry is contacted for the image (default: only when layers are missing).</summary>
    public SandboxBuilder PullPolicy(PullPolicy policy) => SetSpec(s => s with { PullPolicy = policy });

    /// <summary>Sets registry credentials, plain-HTTP access or extra CA roots for the pull. Never persisted.</summary>
    public SandboxBuilder Registry(Func<RegistryConfigBuilder, RegistryConfigBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var registry = configure(new RegistryConfigBuilder());
        return With(_config with
        {
            RegistryAuth = registry.BuiltAuth ?? _config.RegistryAuth,
            Insecure = registry.BuiltInsecure,
            CaCerts = registry.BuiltCaCerts,
        });
    }

    // ---- Resources and runtime -------------------------------------------------------------------

    /// <summary>Sets the number of virtual CPUs (default 1; must be at least 1).</summary>
    public SandboxBuilder Cpus(byte count) => SetSpec(s => s with { Resources = s.Resources with { Cpus = count } });

    /// <summary>Sets guest memory in MiB (default 512; must be at least 1).</summary>
    public SandboxBuilder Memory(uint sizeMib) => SetSpec(s => s with { Resources = s.Resources with { MemoryMib = sizeMib } });

    /// <summary>Sets the sandbox process's log verbosity.</summary>
    public SandboxBuilder LogLevel(SandboxLogLevel level) => SetRuntime(r => r with { LogLevel = level });

    /// <summary>Turns the sandbox process's logs off.</summary>
    public SandboxBuilder QuietLogs() => SetRuntime(r => r with { LogLevel = null });

    /// <summary>Turns metrics sampling off regardless of the interval.</summary>
    public SandboxBuilder DisableMetricsSample() => SetRuntime(r => r with { DisableMetricsSample = true });

    /// <summary>Sets the metrics sampling interval (whole milliseconds); <see cref="TimeSpan.Zero"/> disables sampling.</summary>
    public SandboxBuilder MetricsSampleInterval(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        var ms = (ulong)(interval.Ticks / TimeSpan.TicksPerMillisecond);
        return SetRuntime(r => r with { MetricsSampleIntervalMs = ms == 0 ? null : ms });
    }

    /// <summary>Sets the default working directory of commands in the guest.</summary>
    public SandboxBuilder Workdir(string path) => SetRuntime(r => r with { Workdir = NotNull(path) });

    /// <summary>Sets the shell that interprets shell commands and scripts (default <c>/bin/sh</c>).</summary>
    public SandboxBuilder Shell(string shell) => SetRuntime(r => r with { Shell = NotNull(shell) });

    /// <summary>Adds a script, available in the guest as <c>/.msb/scripts/NAME</c> and on <c>PATH</c>.</summary>
    public SandboxBuilder Script(string name, string content)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(content);
        return SetRuntime(r => r with { Scripts = Sorted(r.Scripts).SetItem(name, content) });
    }

    /// <summary>Adds several scripts. See <see cref="Script"/>.</summary>
    public SandboxBuilder Scripts(IEnumerable<KeyValuePair<string, string>> scripts)
    {
        ArgumentNullException.ThrowIfNull(scripts);
        return scripts.Aggregate(this, (b, kv) => b.Script(kv.Key, kv.Value));
    }

    /// <summary>Overrides the image entrypoint.</summary>
    public SandboxBuilder Entrypoint(params IEnumerable<string> argv)
    {
        ArgumentNullException.ThrowIfNull(argv);
        var tokens = argv.ToImmutableArray();
        return SetRuntime(r => r with { Entrypoint = tokens });
    }

    /// <summary>Overrides the image command; an empty list clears the image's CMD. Nothing runs at creation.</summary>
    public SandboxBuilder Cmd(params IEnumerable<string> argv)
    {
        ArgumentNullException.ThrowIfNull(argv);
        var tokens = argv.ToImmutableArray();
        return SetRuntime(r => r with { Cmd = tokens });
    }

    /// <summary>
    /// Runs the sandbox's command after boot as its main process, as a container runs: <see cref="Entrypoint"/> +
    /// <see cref="Cmd"/>, each falling back to the image's (an entrypoint of your own drops the image's CMD, as in
    /// Docker), with the image's env, workdir and user unless set here. The guest agent stays PID 1 and runs it in its
    /// own session; its output is kept as the sandbox's logs (<see cref="Sandbox.GetLogsAsync(LogOptions?, CancellationToken)"/>).
    /// When it exits, the sandbox stops and records its exit code, unless <paramref name="keepVm"/> is set.
    /// </summary>
    /// <param name="keepVm">Keep the VM running after the main process ended.</param>
    public SandboxBuilder MainProcess(bool keepVm = false) =>
        With(_config with { StartupCommandRequested = true, KeepVmAfterMainProcess = keepVm, InitialCommand = null });

    /// <summary>
    /// The signal a stop sends the main process first (default: the image's <c>STOPSIGNAL</c>, else SIGTERM): a name
    /// such as <c>SIGINT</c> or <c>INT</c>, or a number 1..64.
    /// </summary>
    public SandboxBuilder StopSignal(string signal)
    {
        ArgumentNullException.ThrowIfNull(signal);
        if (Host.Signals.Parse(signal) is null)
            return Fail($"stop_signal: '{signal}' is not a signal name (SIGTERM, TERM) or a number 1..64");
        return With(_config with { StopSignal = signal });
    }

    /// <summary>How long a stop waits for the main process after the stop signal before SIGKILL (default 10 s).</summary>
    public SandboxBuilder StopTimeout(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero) return Fail($"stop_timeout: {timeout} is negative");
        return With(_config with { StopTimeout = timeout });
    }

    /// <summary>
    /// Publishes every port the image exposes (<c>EXPOSE</c>) on a free host port, as <c>docker run -P</c>;
    /// <see cref="Sandbox.GetMappedPort"/> tells which. Ports published explicitly keep their mapping.
    /// </summary>
    public SandboxBuilder PublishExposedPorts() => With(_config with { PublishExposedPorts = true });

    /// <summary>
    /// QEMU engine: the first sandbox of this shape is saved once its main process runs and the waits hold (a
    /// ready-state template, paused for the save); every later one resumes from it with the service already ready,
    /// its own hostname, clock, entropy and published ports, and none of another clone's writes. The guest's writes
    /// live in its RAM (the root disk is read-only under a tmpfs overlay), so the sandbox needs the memory for them.
    /// Needs a main process; refused with host mounts or volumes (their state is outside the guest) and under libkrun.
    /// </summary>
    public SandboxBuilder ReadyStateSnapshot(bool enabled = true) => With(_config with { ReadyStateSnapshot = enabled, ReadyStateSnapshotWhenSupported = false });

    /// <summary>
    /// <see cref="ReadyStateSnapshot"/> where it can be honoured; where it cannot (libkrun, host mounts or volumes)
    /// the sandbox boots cold every time, and the log says why. The modules' default.
    /// </summary>
    public SandboxBuilder ReadyStateSnapshotWhenSupported() => With(_config with { ReadyStateSnapshot = true, ReadyStateSnapshotWhenSupported = true });

    /// <summary>
    /// Copies a host file or directory into the guest at <paramref name="guestPath"/> before the main process starts
    /// (before create returns, without one), with <paramref name="mode"/> for files (default: the host file's) and
    /// owner <paramref name="uid"/>:<paramref name="gid"/> (default root).
    /// </summary>
    public SandboxBuilder CopyIn(string hostPath, string guestPath, uint? mode = null, uint? uid = null, uint? gid = null)
    {
        ArgumentNullException.ThrowIfNull(hostPath);
        return AddFile(new Config.GuestFile { GuestPath = guestPath, HostPath = Path.GetFullPath(hostPath), Mode = mode, Uid = uid, Gid = gid });
    }

    /// <summary>Writes <paramref name="content"/> to <paramref name="guestPath"/> before the main process starts (mode default 0644).</summary>
    public SandboxBuilder CopyIn(ReadOnlyMemory<byte> content, string guestPath, uint? mode = null, uint? uid = null, uint? gid = null) =>
        AddFile(new Config.GuestFile { GuestPath = guestPath, Content = content, Mode = mode, Uid = uid, Gid = gid });

    private SandboxBuilder AddFile(Config.GuestFile file)
    {
        if (file.GuestPath is null || !file.GuestPath.StartsWith('/'))
            return Fail($"copy-in: guest path '{file.GuestPath}' must be absolute");
        if (file.Mode is > 0xfff) return Fail($"copy-in: mode {Convert.ToString(file.Mode.Value, 8)} for '{file.GuestPath}' is not a permission mode (at most 07777)");
        return With(_config with { Files = [.. _config.Files, file] });
    }

    /// <summary>
    /// Adds a readiness wait (<see cref="Wait"/>): create returns once every wait holds, in the order added, each within
    /// its own timeout; a wait that fails tears the sandbox down and throws <see cref="WaitFailedException"/>.
    /// </summary>
    public SandboxBuilder WaitFor(WaitStrategy wait)
    {
        ArgumentNullException.ThrowIfNull(wait);
        return With(_config with { Waits = [.. _config.Waits, wait] });
    }

    /// <summary>
    /// Sets the main process's health check, replacing the image's <c>HEALTHCHECK</c>: <paramref name="test"/> is
    /// <c>["CMD", program, args…]</c> or <c>["CMD-SHELL", script]</c> (<c>["NONE"]</c> switches the image's off).
    /// </summary>
    public SandboxBuilder Healthcheck(IReadOnlyList<string> test, TimeSpan? interval = null, TimeSpan? timeout = null, TimeSpan? startPeriod = null, int? retries = null)
    {
        ArgumentNullException.ThrowIfNull(test);
        var check = new Config.ImageHealthcheck { Test = [.. test] };
        if (interval is { } i) check = check with { Interval = i };
        if (timeout is { } t) check = check with { Timeout = t };
        if (startPeriod is { } p) check = check with { StartPeriod = p };
        if (retries is { } r) check = check with { Retries = r };
        if (check.Interval <= TimeSpan.Zero || check.Timeout <= TimeSpan.Zero || check.StartPeriod < TimeSpan.Zero || check.Retries < 1)
            return Fail("healthcheck: interval and timeout must be positive, start period not negative, retries at least 1");
        try
        {
            _ = check.Argv();
        }
        catch (InvalidConfigException e)
        {
            return Fail(e.Message);
        }
        return With(_config with { Healthcheck = check });
    }

    /// <summary>Sets the guest hostname (1..64 bytes); unset derives it from the sandbox name.</summary>
    public SandboxBuilder Hostname(string hostname) => SetRuntime(r => r with { Hostname = NotNull(hostname) });

    /// <summary>Sets the guest user: <c>1000</c>, <c>appuser</c>, <c>1000:1000</c>...</summary>
    public SandboxBuilder User(string user) => SetRuntime(r => r with { User = NotNull(user) });

    /// <summary>
    /// Hands PID 1 to a guest init after agent setup: an absolute guest path, or <c>auto</c> (an init at the
    /// start of the image entrypoint, else the usual distro paths). Replaces any earlier init.
    /// </summary>
    public SandboxBuilder Init(string cmd) => SetSpec(s => s with { Init = new HandoffInit { Cmd = NotNull(cmd) } });

    /// <summary>Like <see cref="Init"/>, with extra argv and environment for the init.</summary>
    public SandboxBuilder InitWith(string cmd, Func<InitOptionsBuilder, InitOptionsBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(cmd);
        ArgumentNullException.ThrowIfNull(configure);
        var options = configure(new InitOptionsBuilder());
        return SetSpec(s => s with { Init = new HandoffInit { Cmd = cmd, Args = options.BuiltArgs, Env = options.BuiltEnv } });
    }

    /// <summary>Sets the in-guest security profile.</summary>
    public SandboxBuilder Security(SecurityProfile profile) => SetSpec(s => s with { SecurityProfile = profile });

    // ---- Environment, labels, limits -------------------------------------------------------------

    /// <summary>Adds an environment variable for every command (repeatable; per-command env wins). <c>MSB_</c> keys are reserved.</summary>
    public SandboxBuilder Env(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key.StartsWith("MSB_", StringComparison.Ordinal))
        {
            return Fail($"environment variable {RustText.Quote(key)} uses the reserved MSB_ prefix");
        }
        return SetSpec(s => s with { Env = [.. s.Env, new EnvVar(key, value)] });
    }

    /// <summary>Adds several environment variables. See <see cref="Env"/>.</summary>
    public SandboxBuilder Envs(IEnumerable<KeyValuePair<string, string>> vars)
    {
        ArgumentNullException.ThrowIfNull(vars);
        return vars.Aggregate(this, (b, kv) => b.Env(kv.Key, kv.Value));
    }

    /// <summary>Attaches a label. Keys must be non-empty and not start with <c>sandbox.</c>, <c>microsandbox.</c> or <c>service.</c>.</summary>
    public SandboxBuilder Label(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        return SetSpec(s => s with { Labels = Sorted(s.Labels).SetItem(key, value) });
    }

    /// <summary>Attaches several labels. See <see cref="Label"/>.</summary>
    public SandboxBuilder Labels(IEnumerable<KeyValuePair<string, string>> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return labels.Aggregate(this, (b, kv) => b.Label(kv.Key, kv.Value));
    }

    /// <summary>Sets a sandbox-wide resource limit (soft = hard = <paramref name="limit"/>) inherited by every guest process.</summary>
    public SandboxBuilder Rlimit(RlimitResource resource, ulong limit) => RlimitRange(resource, limit, limit);

    /// <summary>Sets a sandbox-wide resource limit with distinct soft and hard values (soft must not exceed hard).</summary>
    public SandboxBuilder RlimitRange(RlimitResource resource, ulong soft, ulong hard) =>
        SetSpec(s => s with { Rlimits = [.. s.Rlimits, new Rlimit { Resource = resource, Soft = soft, Hard = hard }] });

    // ---- Mounts and patches ----------------------------------------------------------------------

    /// <summary>
    /// Adds a volume at a guest path, e.g. <c>.Volume("/data", m =&gt; m.Bind("/srv/data").Readonly())</c>,
    /// <c>.Volume("/cache", m =&gt; m.Named("cache"))</c>, <c>.Volume("/scratch", m =&gt; m.Tmpfs().Size(100))</c>.
    /// </summary>
    public SandboxBuilder Volume(string guestPath, Func<MountBuilder, MountBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(guestPath);
        ArgumentNullException.ThrowIfNull(configure);
        VolumeMount mount;
        try
        {
            mount = configure(new MountBuilder(guestPath)).Build();
        }
        catch (InvalidConfigException e)
        {
            return Fail(e.Message);
        }
        return AddVolumeMount(mount);
    }

    /// <summary>Adds an already-built volume mount (validated by <see cref="Build"/>).</summary>
    public SandboxBuilder AddVolumeMount(VolumeMount mount)
    {
        ArgumentNullException.ThrowIfNull(mount);
        return SetSpec(s => s with { Mounts = [.. s.Mounts, mount] });
    }

    /// <summary>
    /// Adds rootfs patches applied before the VM starts, e.g. <c>.Patch(p =&gt; p.Text("/etc/app.conf", text).Mkdir("/var/app"))</c>.
    /// Disk-image roots cannot be patched.
    /// </summary>
    public SandboxBuilder Patch(Func<PatchBuilder, PatchBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var patches = configure(new PatchBuilder()).Build();
        return SetSpec(s => s with { Patches = [.. s.Patches, .. patches] });
    }

    /// <summary>Adds one patch.</summary>
    public SandboxBuilder AddPatch(Patch patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        return SetSpec(s => s with { Patches = [.. s.Patches, patch] });
    }

    // ---- Network ---------------------------------------------------------------------------------

    /// <summary>Configures the network, e.g. <c>.Network(n =&gt; n.Port(8080, 80).MaxConnections(64))</c>.</summary>
    public SandboxBuilder Network(Func<NetworkBuilder, NetworkBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var network = configure(new NetworkBuilder(_config.Spec.Network));
        var next = SetSpec(s => s with { Network = network.Spec });
        return network.Error is null ? next : next.Fail(network.Error);
    }

    /// <summary>Removes the network device and records a deny-everything policy.</summary>
    public SandboxBuilder DisableNetwork() =>
        SetSpec(s => s with { Network = s.Network with { Enabled = false, Policy = NetworkPolicies.None } });

    /// <summary>Publishes a TCP port on host loopback (repeatable).</summary>
    public SandboxBuilder Port(ushort hostPort, ushort guestPort) => Network(n => n.Port(hostPort, guestPort));

    /// <summary>Publishes a TCP port on a given host address.</summary>
    public SandboxBuilder PortBind(IPAddress hostBind, ushort hostPort, ushort guestPort) =>
        Network(n => n.PortBind(hostBind, hostPort, guestPort));

    /// <summary>Publishes a UDP port on host loopback (repeatable).</summary>
    public SandboxBuilder PortUdp(ushort hostPort, ushort guestPort) => Network(n => n.PortUdp(hostPort, guestPort));

    /// <summary>Publishes a UDP port on a given host address.</summary>
    public SandboxBuilder PortUdpBind(IPAddress hostBind, ushort hostPort, ushort guestPort) =>
        Network(n => n.PortUdpBind(hostBind, hostPort, guestPort));

    // ---- Lifecycle -------------------------------------------------------------------------------

    /// <summary>Marks the sandbox ephemeral: its runtime removes its state (logs included) once it stops. Default persistent.</summary>
    public SandboxBuilder Ephemeral(bool ephemeral = true) =>
        SetSpec(s => s with { Lifecycle = s.Lifecycle with { Ephemeral = ephemeral } });

    /// <summary>Caps the sandbox's total lifetime, in seconds.</summary>
    public SandboxBuilder MaxDuration(ulong seconds) =>
        SetSpec(s => s with { Lifecycle = s.Lifecycle with { MaxDurationSecs = seconds } });

    /// <summary>Caps the sandbox's total lifetime (whole seconds).</summary>
    public SandboxBuilder MaxDuration(TimeSpan duration) => MaxDuration(WholeSeconds(duration));

    /// <summary>Stops the sandbox after this many seconds without activity.</summary>
    public SandboxBuilder IdleTimeout(ulong seconds) =>
        SetSpec(s => s with { Lifecycle = s.Lifecycle with { IdleTimeoutSecs = seconds } });

    /// <summary>Stops the sandbox after this long without activity (whole seconds).</summary>
    public SandboxBuilder IdleTimeout(TimeSpan timeout) => IdleTimeout(WholeSeconds(timeout));

    /// <summary>Replaces an existing sandbox of the same name on create: SIGTERM, up to 10 s grace, then SIGKILL.</summary>
    public SandboxBuilder Replace() => With(_config with { ReplaceExisting = true });

    /// <summary>Like <see cref="Replace"/>, with a custom grace period; <see cref="TimeSpan.Zero"/> sends SIGKILL at once.</summary>
    public SandboxBuilder ReplaceWithTimeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        return With(_config with { ReplaceExisting = true, ReplaceTimeout = timeout });
    }

    // ---- Build -----------------------------------------------------------------------------------

    /// <summary>Validates every setting and returns the immutable configuration.</summary>
    /// <exception cref="InvalidConfigException">The first broken rule, in upstream's words.</exception>
    public SandboxConfig Build()
    {
        if (_error is not null)
        {
            throw new InvalidConfigException(_error);
        }
        SandboxSpecRules.Validate(_config.Spec);
        return _config;
    }

    // ---- Plumbing --------------------------------------------------------------------------------

    private SandboxBuilder With(SandboxConfig config) => new(config) { _error = _error };

    private SandboxBuilder SetSpec(Func<SandboxSpec, SandboxSpec> change) => With(_config with { Spec = change(_config.Spec) });

    private SandboxBuilder SetRuntime(Func<SandboxRuntimeOptions, SandboxRuntimeOptions> change) =>
        SetSpec(s => s with { Runtime = change(s.Runtime) });

    // Upstream keeps the first error; later ones would only describe fallout of the first.
    private SandboxBuilder Fail(string message) => new(_config) { _error = _error ?? message };

    private static ImmutableSortedDictionary<string, string> Sorted(IReadOnlyDictionary<string, string> map) =>
        map is ImmutableSortedDictionary<string, string> sorted && ReferenceEquals(sorted.KeyComparer, StringComparer.Ordinal)
            ? sorted
            : ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, map);

    private static ulong WholeSeconds(TimeSpan value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
        return (ulong)(value.Ticks / TimeSpan.TicksPerSecond);
    }

    private static string NotNull(string value, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(value))] string? name = null) =>
        value ?? throw new ArgumentNullException(name);
}
