namespace Microsandbox.Xunit;

/// <summary>
/// Per-test isolation at close to the cost of a shared fixture: sandboxes are booted ahead in the background, each
/// test takes a fresh one (<see cref="AcquireAsync"/>) and gives it back when it ends, and the returned sandbox is
/// disposed off the test's path. A boot that failed is reported to the test that would have received it.
/// </summary>
public sealed class SandboxPool : IAsyncDisposable
{
    private readonly SandboxFactory _factory;
    private readonly string? _definitionName;
    private readonly Func<SandboxBuilder, SandboxBuilder>? _configure;
    private readonly int _ahead;
    private readonly SemaphoreSlim _boots;
    private readonly Queue<Task<PooledSandbox>> _queue = new();
    private readonly List<Task> _retiring = [];
    private readonly CancellationTokenSource _shutdown = new();
    private readonly object _gate = new();
    private bool _disposed;

    internal SandboxPool(SandboxFactory factory, string key, string? definitionName, Func<SandboxBuilder, SandboxBuilder>? configure, int ahead, int bootConcurrency)
    {
        _factory = factory;
        Key = key;
        _definitionName = definitionName;
        _configure = configure;
        _ahead = ahead;
        _boots = new SemaphoreSlim(bootConcurrency);
    }

    /// <summary>What this pool is for (a test class or a definition name).</summary>
    public string Key { get; }

    /// <summary>Where boot logs go until a test takes the sandbox. Default: diagnostic messages.</summary>
    public Action<string> BootLog { get; set; } = TestFramework.Diagnostics(null);

    /// <summary>How many sandboxes are booted or booting, waiting for a test.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate) return _queue.Count;
        }
    }

    /// <summary>Starts booting up to the pool size ahead without taking one (for example from an assembly fixture).</summary>
    public void Prewarm()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            while (_queue.Count < _ahead) _queue.Enqueue(BootLocked(after: null, limited: true));
        }
    }

    /// <summary>Waits until every boot started ahead has finished; a failed boot is reported to the test that takes it, not here.</summary>
    public async Task WhenWarmAsync(CancellationToken cancellationToken = default)
    {
        Task[] queued;
        lock (_gate) queued = [.. _queue];
        foreach (var boot in queued)
        {
            try
            {
                await boot.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MicrosandboxException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)) { }
        }
    }

    /// <summary>
    /// Takes a fresh sandbox (booted ahead when the pool kept up, else booted now) and starts the next boot.
    /// Dispose the lease when the test ends.
    /// </summary>
    public async Task<SandboxLease> AcquireAsync(CancellationToken cancellationToken = default)
    {
        var started = DateTimeOffset.UtcNow;
        Task<PooledSandbox> mine;
        bool prebooted;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            prebooted = _queue.TryDequeue(out var queued) && queued is not null;
            // A test that found the pool empty boots at once; the boots ahead queue behind it, not in front.
            mine = prebooted ? queued! : BootLocked(after: null, limited: false);
            while (_queue.Count < _ahead) _queue.Enqueue(BootLocked(after: prebooted ? null : mine, limited: true));
        }
        var ready = mine.IsCompletedSuccessfully;
        PooledSandbox pooled;
        try
        {
            pooled = await mine.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The boot goes on; whatever it yields is retired.
            Retire(mine);
            throw;
        }
        pooled.Logs.Target = TestFramework.CurrentTestOr(BootLog);
        return new SandboxLease(this, pooled.Sandbox, pooled.Logs, ready, DateTimeOffset.UtcNow - started);
    }

    internal ValueTask ReturnAsync(Sandbox sandbox, LogRouter logs)
    {
        // The test is over: its output no longer takes lines.
        logs.Target = BootLog;
        // Disposal (graceful guest shutdown, row removal) runs off the test's path.
        var task = Task.Run(async () =>
        {
            try
            {
                await sandbox.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is MicrosandboxException or IOException)
            {
                BootLog($"pool {Key}: disposing {sandbox.Name} failed: {e.Message}");
            }
        });
        lock (_gate) _retiring.Add(task);
        return ValueTask.CompletedTask;
    }

    private Task<PooledSandbox> BootLocked(Task? after, bool limited) => Task.Run(async () =>
    {
        if (after is not null) await after.ContinueWith(_ => { }, _shutdown.Token, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
        if (limited) await _boots.WaitAsync(_shutdown.Token).ConfigureAwait(false);
        try
        {
            var logs = new LogRouter(BootLog, _factory.Options.MinimumLogLevel);
            var stop = _factory.Options.PoolStopsGracefully ? (TimeSpan?)null : TimeSpan.Zero;
            var sandbox = await _factory.CreateAsync(_definitionName, _configure, logs, stop, _shutdown.Token).ConfigureAwait(false);
            return new PooledSandbox(sandbox, logs);
        }
        finally
        {
            if (limited) _boots.Release();
        }
    });

    private void Retire(Task<PooledSandbox> boot)
    {
        var task = boot.ContinueWith(async t =>
        {
            if (t.IsCompletedSuccessfully) await t.Result.Sandbox.DisposeAsync().ConfigureAwait(false);
        }, TaskScheduler.Default).Unwrap();
        lock (_gate) _retiring.Add(task);
    }

    /// <summary>Cancels boots in flight, stops the sandboxes no test took, and waits for returned ones to finish stopping.</summary>
    public async ValueTask DisposeAsync()
    {
        Task<PooledSandbox>[] queued;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            queued = [.. _queue];
            _queue.Clear();
        }
        await _shutdown.CancelAsync().ConfigureAwait(false);
        foreach (var boot in queued) Retire(boot);
        Task[] retiring;
        lock (_gate) retiring = [.. _retiring];
        try
        {
            await Task.WhenAll(retiring).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MicrosandboxException or IOException or OperationCanceledException)
        {
            // Cancelled boots and failed stops were already logged by the SDK; nothing is left running.
        }
        _shutdown.Dispose();
    }

    private sealed record PooledSandbox(Sandbox Sandbox, LogRouter Logs);
}

/// <summary>A sandbox a test holds from a <see cref="SandboxPool"/>; dispose it to hand the sandbox back for disposal.</summary>
public sealed class SandboxLease : IAsyncDisposable
{
    private readonly SandboxPool _pool;
    private int _returned;

    private readonly LogRouter _logs;

    internal SandboxLease(SandboxPool pool, Sandbox sandbox, LogRouter logs, bool prebooted, TimeSpan waited)
    {
        _pool = pool;
        _logs = logs;
        Sandbox = sandbox;
        WasPrebooted = prebooted;
        Waited = waited;
    }

    /// <summary>The sandbox, used by this test alone.</summary>
    public Sandbox Sandbox { get; }

    /// <summary>True when the sandbox was already booted when the test asked for it.</summary>
    public bool WasPrebooted { get; }

    /// <summary>How long the test waited for it.</summary>
    public TimeSpan Waited { get; }

    /// <summary>Sends the sandbox's log lines to <paramref name="target"/> until the lease is returned.</summary>
    internal void RouteLogsTo(Action<string> target) => _logs.Target = target;

    /// <summary>Returns the sandbox; the pool stops and removes it in the background.</summary>
    public ValueTask DisposeAsync() =>
        Interlocked.Exchange(ref _returned, 1) == 0 ? _pool.ReturnAsync(Sandbox, _logs) : ValueTask.CompletedTask;
}
