using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsandbox.Engines;
using Microsandbox.Runtime;
using Microsandbox.Spawn;
using Microsandbox.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsandbox.Xunit;

/// <summary>
/// Makes the sandboxes of one test assembly: unique names, the default image, ephemeral policy, named definitions,
/// start failures turned into <see cref="SandboxFixtureException"/> with the guest's logs, and the pools behind
/// <see cref="SandboxTest"/>. Resolve it from the assembly's services (<see cref="MicrosandboxServices"/>).
/// </summary>
public sealed class SandboxFactory : IAsyncDisposable, IDisposable
{
    private static int _counter;
    private readonly Dictionary<string, SandboxDefinition> _definitions;
    private readonly ConcurrentDictionary<string, SandboxPool> _pools = new();
    private readonly Lazy<string?> _engineUnavailable;
    private readonly Lazy<Task> _sweep;

    /// <summary>Created by dependency injection.</summary>
    public SandboxFactory(IOptions<MicrosandboxOptions> options, IEnumerable<SandboxDefinition> definitions)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Value;
        _definitions = new Dictionary<string, SandboxDefinition>(StringComparer.Ordinal);
        foreach (var definition in definitions ?? [])
        {
            if (!_definitions.TryAdd(definition.Name, definition))
                throw new InvalidConfigException($"sandbox definition '{definition.Name}' is registered twice; each AddSandbox name must be unique");
        }
        RunId = $"{Environment.ProcessId:x}{RandomNumberGenerator.GetHexString(4, lowercase: true)}";
        _engineUnavailable = new(ProbeEngine);
        _sweep = new(SweepAsync);
    }

    /// <summary>The validated options.</summary>
    public MicrosandboxOptions Options { get; }

    /// <summary>Part of every sandbox name made by this process, so parallel test processes never collide.</summary>
    public string RunId { get; }

    /// <summary>The names of the registered definitions.</summary>
    public IReadOnlyCollection<string> DefinitionNames => _definitions.Keys;

    /// <summary>Why no sandbox can run on this host (the engine's own reason), or null when one can.</summary>
    public string? EngineUnavailableReason => _engineUnavailable.Value;

    /// <summary>The state directory sandboxes are made in.</summary>
    public string HomeDirectory => Options.ToSandboxOptions(NullLoggerFactory.Instance).StateDirectory;

    /// <summary>A sandbox name unique to this process: <c>PREFIX-RUNID-N</c>.</summary>
    public string NextName() => $"{Options.NamePrefix}-{RunId}-{Interlocked.Increment(ref _counter)}";

    /// <summary>
    /// The builder for a new sandbox: unique name, default image, then the registered definition
    /// <paramref name="definitionName"/> (if any), then <paramref name="configure"/>, then the ephemeral policy.
    /// </summary>
    /// <exception cref="InvalidConfigException">No definition is registered under <paramref name="definitionName"/>.</exception>
    public SandboxBuilder CreateBuilder(string? definitionName = null, Func<SandboxBuilder, SandboxBuilder>? configure = null)
    {
        var builder = new SandboxBuilder(NextName());
        if (Options.DefaultImage is { } image) builder = builder.Image(image);
        if (definitionName is not null)
        {
            if (!_definitions.TryGetValue(definitionName, out var definition))
            {
                var known = _definitions.Count == 0 ? "none are registered" : "registered: " + string.Join(", ", _definitions.Keys.Order());
                throw new InvalidConfigException($"no sandbox definition named '{definitionName}' ({known}); add it with services.AddSandbox(\"{definitionName}\", b => …)");
            }
            builder = definition.Configure(builder) ?? throw new InvalidConfigException($"sandbox definition '{definitionName}' returned no builder");
        }
        if (configure is not null) builder = configure(builder) ?? throw new InvalidConfigException("a Configure override returned no builder");
        return Options.KeepSandboxes ? builder : builder.Ephemeral();
    }

    /// <summary>
    /// Boots a sandbox. A failure is rethrown as <see cref="SandboxFixtureException"/> carrying the cause and the guest's
    /// logs; nothing of the failed sandbox is left behind. When no engine can run, <see cref="EngineUnavailableException"/>.
    /// </summary>
    public Task<Sandbox> CreateAsync(string? definitionName, Func<SandboxBuilder, SandboxBuilder>? configure,
        ILoggerFactory? loggerFactory, CancellationToken cancellationToken = default) =>
        CreateAsync(definitionName, configure, loggerFactory, null, cancellationToken);

    internal async Task<Sandbox> CreateAsync(string? definitionName, Func<SandboxBuilder, SandboxBuilder>? configure,
        ILoggerFactory? loggerFactory, TimeSpan? stopTimeout, CancellationToken cancellationToken)
    {
        if (EngineUnavailableReason is { } why) throw new EngineUnavailableException("sandbox", why);
        await _sweep.Value.ConfigureAwait(false);
        var builder = CreateBuilder(definitionName, configure);
        var name = builder.Build().Spec.Name;
        var options = Options.ToSandboxOptions(loggerFactory ?? NullLoggerFactory.Instance);
        if (stopTimeout is { } stop) options = options with { StopTimeout = stop };
        try
        {
            return await Sandbox.CreateAsync(builder, options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var logs = await CollectFailedAsync(options, name).ConfigureAwait(false);
            throw new SandboxFixtureException(name, logs, e);
        }
    }

    /// <summary>
    /// The pool of pre-booted sandboxes for <paramref name="key"/> (one per test class or definition), made on first use
    /// with <see cref="MicrosandboxOptions.PoolSize"/> sandboxes booted ahead.
    /// </summary>
    public SandboxPool GetPool(string key, string? definitionName, Func<SandboxBuilder, SandboxBuilder>? configure) =>
        _pools.GetOrAdd(key, k => new SandboxPool(this, k, definitionName, configure, Options.PoolSize, Options.PoolBootConcurrency));

    /// <summary>Stops the pools' idle sandboxes and any boot still in flight.</summary>
    public async ValueTask DisposeAsync()
    {
        var pools = _pools.Values.ToArray();
        _pools.Clear();
        await Task.WhenAll(pools.Select(p => p.DisposeAsync().AsTask())).ConfigureAwait(false);
        // A run shorter than a template save would otherwise abandon it, and the next run would boot cold again.
        try
        {
            await Sandbox.WaitForSnapshotTemplatesAsync().WaitAsync(Options.BootTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException) { }
    }

    /// <summary>Blocking form of <see cref="DisposeAsync"/>, for containers disposed synchronously.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    // The logs of a sandbox that failed to start, then its row and directory (kept by KeepFailedSandboxes for this read).
    private async Task<string?> CollectFailedAsync(SandboxOptions options, string name)
    {
        string? logs = null;
        var dir = options.LogDirectoryOf(name);
        var parts = new List<string>();
        foreach (var file in new[] { "runtime.log", "console.log" })
        {
            var path = Path.Combine(dir, file);
            try
            {
                if (File.Exists(path)) parts.Add($"--- {file} ({path}) ---\n{Tail(await File.ReadAllTextAsync(path).ConfigureAwait(false))}");
            }
            catch (IOException) { }
        }
        if (parts.Count > 0) logs = string.Join('\n', parts);
        if (!Options.KeepSandboxes && Environment.GetEnvironmentVariable("MSB_KEEP_FAILED") != "1")
        {
            try
            {
                await Sandboxes.RemoveAsync(name, force: false, options).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MicrosandboxException or IOException) { }
        }
        return logs;
    }

    private static string Tail(string text, int maxChars = 6000) =>
        text.Length <= maxChars ? text : "…" + text[^maxChars..];

    private string? ProbeEngine()
    {
        try
        {
            EngineSelector.Select(Options.ToSandboxOptions(NullLoggerFactory.Instance), NullLogger.Instance);
            return null;
        }
        catch (EngineUnavailableException e)
        {
            return e.Message;
        }
        catch (MicrosandboxException e)
        {
            return e.Message;
        }
    }

    // Rows a crashed earlier run left behind: listing closes Running rows whose process is gone (or that sat "starting"
    // with nobody holding their lock), and this assembly's prefix marks the crashed leftovers of other runs, which are
    // safe to delete; a parallel run's live sandboxes stay Running and are not touched.
    internal async Task SweepAsync()
    {
        var options = Options.ToSandboxOptions(NullLoggerFactory.Instance);
        try
        {
            foreach (var sandbox in await Sandboxes.ListAsync(options).ConfigureAwait(false))
            {
                if (!sandbox.Name.StartsWith(Options.NamePrefix + "-", StringComparison.Ordinal) || sandbox.Name.Contains(RunId, StringComparison.Ordinal)) continue;
                if (sandbox.Status != SandboxStatus.Crashed) continue;
                await Sandboxes.RemoveAsync(sandbox.Name, force: false, options).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is MicrosandboxException or IOException or Microsoft.Data.Sqlite.SqliteException)
        {
            // A sweep is housekeeping: a failure here must not fail the tests.
        }
    }
}
