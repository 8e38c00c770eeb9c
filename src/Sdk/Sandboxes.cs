using System.Globalization;
using Microsandbox.Runtime;
using Microsandbox.Spawn;
using Microsandbox.Spec;
using Microsandbox.State;

namespace Microsandbox;

/// <summary>
/// Sandboxes by name, whoever created them (this process, another one, <c>microsandbox run -d</c>, <c>msb</c>): list,
/// inspect, read logs, stop and remove (upstream's SDKs' <c>Sandbox.list</c>/<c>get</c>/<c>remove</c>).
/// </summary>
public static class Sandboxes
{
    /// <summary>Every sandbox in the state directory, after closing rows whose process died.</summary>
    public static async Task<IReadOnlyList<SandboxInfo>> ListAsync(SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        await using var store = await StateStore.OpenAsync(Home(options).Root, cancellationToken).ConfigureAwait(false);
        await store.SweepStaleAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<SandboxInfo>();
        foreach (var row in await store.ListSandboxesAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            result.Add(await DescribeAsync(store, Home(options), row, cancellationToken).ConfigureAwait(false));
        return result;
    }

    /// <summary>One sandbox; null when there is none of that name.</summary>
    public static async Task<SandboxInfo?> InspectAsync(string name, SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await using var store = await StateStore.OpenAsync(Home(options).Root, cancellationToken).ConfigureAwait(false);
        await store.SweepStaleAsync(cancellationToken).ConfigureAwait(false);
        return await store.GetSandboxAsync(name, cancellationToken).ConfigureAwait(false) is { } row
            ? await DescribeAsync(store, Home(options), row, cancellationToken).ConfigureAwait(false)
            : null;
    }

    /// <summary>
    /// Boots a stopped, kept sandbox again from its stored spec, keeping its row, logs and volumes; a sandbox created
    /// with a main process runs it again (as <c>docker start</c>). Returns the handle; <see cref="Sandbox.DetachAsync"/>
    /// lets it run on without this process.
    /// </summary>
    /// <exception cref="MicrosandboxException">There is no sandbox of that name, or it is running.</exception>
    public static async Task<Sandbox> StartAsync(string name, SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var effective = options ?? SandboxOptions.Default;
        SandboxRecord row;
        await using (var store = await StateStore.OpenAsync(effective.Home.Root, cancellationToken).ConfigureAwait(false))
            row = await store.GetSandboxAsync(name, cancellationToken).ConfigureAwait(false) ?? throw NoSuch(name);
        var builder = SandboxBuilder.FromSpecJson(row.ConfigJson);
        if (MainProcessMarker.IsSet(effective.Home, name)) builder = builder.MainProcess();
        var config = builder.Build() with { RestartExisting = true };
        return await SandboxLauncher.LaunchAsync(config, effective, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops a running sandbox: its main process gets its stop signal and grace period, then the guest powers off;
    /// killed when it does not end in time. Nothing happens when it is not running.
    /// </summary>
    /// <exception cref="MicrosandboxException">There is no sandbox of that name.</exception>
    public static async Task StopAsync(string name, SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        var home = Home(options);
        await using var store = await StateStore.OpenAsync(home.Root, cancellationToken).ConfigureAwait(false);
        _ = await store.GetSandboxAsync(name, cancellationToken).ConfigureAwait(false) ?? throw NoSuch(name);
        await SandboxLauncher.StopByNameAsync(store, home, name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes a stopped sandbox (row, logs, disks), or what a failed start left of one; with <paramref name="force"/> a
    /// running one is stopped first.
    /// </summary>
    /// <exception cref="MicrosandboxException">There is no sandbox of that name, or it runs and <paramref name="force"/> is false.</exception>
    public static async Task RemoveAsync(string name, bool force = false, SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        var home = Home(options);
        await using (var store = await StateStore.OpenAsync(home.Root, cancellationToken).ConfigureAwait(false))
        {
            // A sandbox whose row is gone may still have left its directory (the logs of a failed start): remove that.
            if (await store.GetSandboxAsync(name, cancellationToken).ConfigureAwait(false) is null && !Directory.Exists(home.SandboxDirectory(name)))
                throw NoSuch(name);
            if (force) await SandboxLauncher.StopByNameAsync(store, home, name, cancellationToken).ConfigureAwait(false);
        }
        await SandboxLauncher.RemoveStoppedAsync(home, name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="command"/> in a running sandbox, copying its output to <paramref name="stdout"/> and
    /// <paramref name="stderr"/>; returns its exit code.
    /// </summary>
    /// <exception cref="MicrosandboxException">The sandbox is not running.</exception>
    /// <exception cref="ExecFailedException">The command could not be started.</exception>
    public static async Task<int> ExecAsync(string name, ExecCommand command, Stream stdout, Stream stderr, SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(command);
        var home = Home(options);
        if (!LifecycleLock.IsHeld(home, name)) throw new MicrosandboxException($"sandbox '{name}' is not running");
        await using var client = await Agent.AgentClient.ConnectAsync(home.AgentSocketPath(name), null, cancellationToken).ConfigureAwait(false);
        bool noInput = command.Stdin is not { Length: > 0 };
        await using var session = await client.ExecAsync(command.ToRequest(), noInput, cancellationToken).ConfigureAwait(false);
        if (!noInput)
        {
            await session.WriteStdinAsync(command.Stdin!.Value, cancellationToken).ConfigureAwait(false);
            await session.CloseStdinAsync(cancellationToken).ConfigureAwait(false);
        }
        return await ExecStreams.CopyAsync(session.ReadEventsAsync(cancellationToken), command.Program, stdout, stderr, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A sandbox's main-process log lines (see <see cref="Sandbox.GetLogsAsync(LogOptions?, CancellationToken)"/>).</summary>
    public static Task<IReadOnlyList<LogEntry>> GetLogsAsync(string name, LogOptions? logOptions = null, SandboxOptions? options = null, CancellationToken cancellationToken = default) =>
        ExecLog.ReadAsync(LogDirectory(name, options), logOptions, cancellationToken);

    /// <summary>A sandbox's log lines as they are written, until it stops (see <see cref="Sandbox.FollowLogsAsync"/>).</summary>
    public static IAsyncEnumerable<LogEntry> FollowLogsAsync(string name, LogOptions? logOptions = null, SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        var home = Home(options);
        return ExecLog.FollowAsync(LogDirectory(name, options), () => !LifecycleLock.IsHeld(home, name), logOptions, cancellationToken);
    }

    private static string LogDirectory(string name, SandboxOptions? options)
    {
        ArgumentNullException.ThrowIfNull(name);
        var home = Home(options);
        if (!Directory.Exists(home.SandboxDirectory(name))) throw NoSuch(name);
        return home.LogDirectory(name);
    }

    private static async Task<SandboxInfo> DescribeAsync(StateStore store, Host.MicrosandboxHome home, SandboxRecord row, CancellationToken cancellationToken)
    {
        var runs = await store.ListRunsAsync(row.Id, cancellationToken).ConfigureAwait(false);
        var last = runs.Count == 0 ? null : runs[^1];
        var spec = SpecJson.Read(row.ConfigJson).Value;
        var ports = spec?.Network.Ports.Select(p => string.Create(CultureInfo.InvariantCulture,
            $"{p.HostBind}:{p.HostPort}→{p.GuestPort}/{p.Protocol.ToString().ToLowerInvariant()}")).ToList() ?? [];
        var image = spec?.Image switch
        {
            RootfsSource.Oci oci => oci.Source.Reference,
            RootfsSource.Bind bind => bind.Path,
            RootfsSource.DiskImage disk => disk.Path,
            { } other => other.ToString() ?? "",
            null => "",
        };
        return new SandboxInfo(row.Name, row.Status, row.Ephemeral, image, last?.Pid,
            last?.Status == RunStatus.Running ? null : last?.ExitCode,
            last?.Status == RunStatus.Running ? null : last?.TerminationReason,
            ports, row.CreatedAt, row.Labels, home.LogDirectory(row.Name),
            row.Status == SandboxStatus.Running ? HealthState.Read(home.LogDirectory(row.Name))?.Status ?? HealthStatus.None : HealthStatus.None);
    }

    private static MicrosandboxException NoSuch(string name) => new($"no sandbox named '{name}'");

    private static Host.MicrosandboxHome Home(SandboxOptions? options) => (options ?? SandboxOptions.Default).Home;
}
