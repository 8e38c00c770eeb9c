using System.Net;
using System.Net.Sockets;
using Microsandbox.Agent;
using Microsandbox.Engines;
using Microsandbox.Host;
using Microsandbox.Runtime;
using Microsandbox.Spawn;
using Microsandbox.Spec;
using Microsandbox.State;
using Microsoft.Extensions.Logging;

namespace Microsandbox;

/// <summary>
/// A running microVM. Create one with <see cref="CreateAsync(SandboxBuilder, SandboxOptions?, CancellationToken)"/>,
/// run commands and move files through it, and dispose it to stop the VM (and remove it when it is ephemeral).
/// The VM also stops when the process that created it dies.
/// </summary>
public sealed partial class Sandbox : IAsyncDisposable
{
    private readonly SandboxOptions _options;
    private readonly ILogger _logger;
    private readonly SpawnedSandbox _process;
    private readonly AgentClient _agent;
    private readonly IReadOnlyList<PublishedPortSpec> _ports;
    private readonly VmLastWords _lastWords;
    private readonly StartupCommand? _main;
    private int _stopped;
    private int _disposed;
    private bool _detached;

    private Sandbox(SandboxSpec spec, long id, EngineChoice engine, SandboxOptions options, ILogger logger,
        SpawnedSandbox process, AgentClient agent, IReadOnlyList<PublishedPortSpec> ports, StartupCommand? main)
    {
        _main = main;
        Spec = spec;
        Id = id;
        EngineName = engine.Engine.Name;
        EngineReason = engine.Reason;
        _options = options;
        _logger = logger;
        _process = process;
        _agent = agent;
        _ports = ports;
        _lastWords = new VmLastWords(options.Home.LogDirectory(spec.Name));
        Fs = new SandboxFileSystem(agent);
    }

    /// <summary>The sandbox name.</summary>
    public string Name => Spec.Name;

    /// <summary>The spec the sandbox was created from.</summary>
    public SandboxSpec Spec { get; }

    /// <summary>The sandbox row id in the state database.</summary>
    public long Id { get; }

    /// <summary>qemu or krun.</summary>
    public string EngineName { get; }

    /// <summary>Why that engine was chosen.</summary>
    public string EngineReason { get; }

    /// <summary>The sandbox process id.</summary>
    public int ProcessId => _process.Pid;

    /// <summary>Files in the guest.</summary>
    public SandboxFileSystem Fs { get; }

    /// <summary>The sandbox's log directory (<c>runtime.log</c>, <c>console.log</c>).</summary>
    public string LogDirectory => _options.Home.LogDirectory(Name);

    /// <summary>Boots a sandbox from <paramref name="builder"/> and returns once its guest agent answers.</summary>
    public static Task<Sandbox> CreateAsync(SandboxBuilder builder, CancellationToken cancellationToken = default) =>
        CreateAsync(builder, null, cancellationToken);

    /// <summary>Boots a sandbox from <paramref name="builder"/> with explicit <paramref name="options"/>.</summary>
    public static Task<Sandbox> CreateAsync(SandboxBuilder builder, SandboxOptions? options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return SandboxLauncher.LaunchAsync(builder.Build(), options ?? SandboxOptions.Default, cancellationToken);
    }

    /// <summary>
    /// Waits for the snapshot templates this process is saving in the background (see
    /// <see cref="SandboxOptions.BootFromSnapshot"/>) to be saved or to fail. The save runs a VM of its own inside this
    /// process, so a process that ends first abandons it and the next one boots cold again; short-lived callers (a
    /// command-line run) await this before exiting. Completes at once when nothing is being saved.
    /// </summary>
    public static Task WaitForSnapshotTemplatesAsync(CancellationToken cancellationToken = default) =>
        Engines.Qemu.QemuTemplates.WhenBuildsDoneAsync().WaitAsync(cancellationToken);

    internal static Sandbox Attach(SandboxSpec spec, long id, EngineChoice engine, SandboxOptions options, ILogger logger,
        SpawnedSandbox process, AgentClient agent, IReadOnlyList<PublishedPortSpec> ports, StartupCommand? main) =>
        new(spec, id, engine, options, logger, process, agent, ports, main);

    /// <summary>Whether the sandbox runs a main process (<see cref="SandboxBuilder.MainProcess"/>).</summary>
    public bool HasMainProcess => _main is not null;

    /// <summary>
    /// How the sandbox's last run ended: the main process's exit code for a sandbox with one (-1 when a signal ended
    /// it), else the VM's; null while it runs or when nothing was recorded.
    /// </summary>
    public async Task<int?> GetExitCodeAsync(CancellationToken cancellationToken = default)
    {
        if (!_process.HasExited) return null;
        await using var store = await StateStore.OpenAsync(_options.Home.Root, cancellationToken).ConfigureAwait(false);
        var runs = await store.ListRunsAsync(Id, cancellationToken).ConfigureAwait(false);
        return runs.Count == 0 ? null : runs[^1].ExitCode;
    }

    /// <summary>Runs <paramref name="program"/> with <paramref name="arguments"/> and waits for it.</summary>
    public Task<ExecOutput> ExecAsync(string program, IEnumerable<string>? arguments = null, CancellationToken cancellationToken = default) =>
        ExecAsync(new ExecCommand(program) { Arguments = arguments?.ToArray() ?? [] }, cancellationToken);

    /// <summary>Runs <paramref name="script"/> with the sandbox's shell (<c>/bin/sh</c> unless the spec names another) as <c>sh -c SCRIPT</c>.</summary>
    public Task<ExecOutput> ShellAsync(string script, CancellationToken cancellationToken = default) =>
        ExecAsync(new ExecCommand(Spec.Runtime.Shell ?? "/bin/sh") { Arguments = ["-c", script] }, cancellationToken);

    /// <summary>The host port that forwards to <paramref name="guestPort"/>.</summary>
    /// <exception cref="InvalidOperationException">The port was not published.</exception>
    public int GetMappedPort(int guestPort, PortProtocol protocol = PortProtocol.Tcp)
    {
        var forward = _ports.FirstOrDefault(p => p.GuestPort == guestPort && p.Protocol == protocol)
            ?? throw new InvalidOperationException($"guest port {guestPort}/{protocol.ToString().ToLowerInvariant()} is not published; add it with SandboxBuilder.Port");
        return forward.HostPort;
    }

    /// <summary>The host address a published guest port listens on.</summary>
    public string GetMappedHost(int guestPort) =>
        _ports.FirstOrDefault(p => p.GuestPort == guestPort)?.HostBind ?? IPAddress.Loopback.ToString();

    /// <summary>The sandbox's runtime log and guest console, for diagnostics.</summary>
    public async Task<string> GetDiagnosticLogsAsync(CancellationToken cancellationToken = default)
    {
        var parts = new List<string>();
        foreach (var file in new[] { "runtime.log", "console.log" })
        {
            var path = Path.Combine(LogDirectory, file);
            if (File.Exists(path)) parts.Add($"--- {file} ---\n" + await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));
        }
        return string.Join('\n', parts);
    }

    /// <summary>Waits until the sandbox ends by itself (guest shutdown, idle timeout, max duration) or is stopped.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>True while the sandbox process (and so the VM) is running.</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>
    /// Stops the VM: the main process (if any) gets its stop signal and grace period (<see cref="SandboxBuilder.StopSignal"/>,
    /// <see cref="SandboxBuilder.StopTimeout"/>), then the guest shuts down gracefully; the VM is killed after
    /// <see cref="SandboxOptions.StopTimeout"/> more. Idempotent.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => StopCoreAsync(discard: false, cancellationToken);

    private async Task StopCoreAsync(bool discard, CancellationToken cancellationToken)
    {
        if (_detached) return;
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        await _agent.DisposeAsync().ConfigureAwait(false);
        if (!_process.HasExited)
        {
            _logger.LogInformation("stopping sandbox {Name}", Name);
            // An explicit stop of a service is graceful; throwing a sandbox away (dispose) need not be.
            bool discarding = NothingToKeep && (discard || _main is null);
            _process.Signal(discarding ? Runtime.QemuSandboxHost.DiscardSignal : Libc.SIGTERM);
            var exited = _process.WaitForExitAsync(cancellationToken);
            var timeout = _options.StopTimeout + (discarding || _main is null ? TimeSpan.Zero : TimeSpan.FromSeconds(_main.StopGraceSecs + 2));
            if (await Task.WhenAny(exited, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false) != exited)
            {
                _logger.LogWarning("sandbox {Name} did not stop within {Timeout}; killing it", Name, timeout);
                _process.Signal(Libc.SIGKILL);
                await exited.ConfigureAwait(false);
                await SandboxLauncher.MarkKilledAsync(_options.Home, Id, cancellationToken).ConfigureAwait(false);
            }
        }
        _process.Dispose();
    }

    /// <summary>
    /// Kills the VM at once (Docker's <c>kill</c>): the sandbox process and QEMU get SIGKILL, no stop signal, no grace, no
    /// guest power-off. The run is recorded as killed; a main process's exit code reads as -1. Idempotent.
    /// </summary>
    public async Task KillAsync(CancellationToken cancellationToken = default)
    {
        if (_detached) return;
        Interlocked.Exchange(ref _stopped, 1);
        await _agent.DisposeAsync().ConfigureAwait(false);
        if (!_process.HasExited)
        {
            _logger.LogInformation("killing sandbox {Name}", Name);
            _process.Signal(Libc.SIGKILL);
            await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            await SandboxLauncher.MarkKilledAsync(_options.Home, Id, cancellationToken).ConfigureAwait(false);
            await LifecycleLock.WaitReleasedAsync(_options.Home, Name, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Lets the sandbox outlive this handle and this process (<c>microsandbox run -d</c>): the handle closes, the VM
    /// keeps running, and <see cref="Sandboxes"/> reaches it by name from then on. Disposing the handle afterwards does
    /// nothing.
    /// </summary>
    public async Task DetachAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        await _agent.DisposeAsync().ConfigureAwait(false);
        _process.Detach();
        _detached = true;
    }

    /// <summary>
    /// Whether stopping may skip the guest's graceful power-off: an ephemeral sandbox on our engine whose writes all go
    /// where they are lost anyway (its root is an image copy, tmpfs or a throwaway disk snapshot) or already are on
    /// the host (9p bind mounts write through); disk volumes and a directory root keep the graceful path, since their
    /// guest caches must be flushed.
    /// </summary>
    private bool NothingToKeep =>
        Spec.Lifecycle.Ephemeral
        && EngineName == "qemu"
        && Spec.Image is not RootfsSource.Bind
        && Spec.Mounts.All(m => m is VolumeMount.Bind or VolumeMount.Tmpfs);

    /// <summary>Stops the VM if needed and deletes its row, logs and runtime files. Idempotent.</summary>
    public Task RemoveAsync(CancellationToken cancellationToken = default) => RemoveCoreAsync(discard: false, cancellationToken);

    private async Task RemoveCoreAsync(bool discard, CancellationToken cancellationToken)
    {
        await StopCoreAsync(discard, cancellationToken).ConfigureAwait(false);
        await SandboxLauncher.RemoveStoppedAsync(_options.Home, Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the VM; ephemeral sandboxes are also removed. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        try
        {
            if (_detached) return;
            if (Spec.Lifecycle.Ephemeral) await RemoveCoreAsync(discard: true, CancellationToken.None).ConfigureAwait(false);
            else await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            _lastWords.Dispose();
        }
    }

    /// <summary>
    /// A connection that dropped mid-operation, explained: when the sandbox process ended within 2 s, the error names
    /// the sandbox and carries why the VM ended (from its runtime log and guest console); otherwise the error as it was.
    /// </summary>
    internal async Task<Exception> ExplainLostConnectionAsync(AgentConnectionException lost, string operation)
    {
        if (Volatile.Read(ref _stopped) == 1) return lost; // our own stop closed it
        var why = await _lastWords.ExplainAsync(_process.WaitForExitAsync, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        return why is null ? lost : new AgentConnectionException($"sandbox {Name}: {operation} failed because {why}", lost);
    }

    internal static int FreeTcpPort(string host)
    {
        using var listener = new TcpListener(IPAddress.Parse(host), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
