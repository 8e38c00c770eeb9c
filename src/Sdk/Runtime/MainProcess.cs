using Microsandbox.Agent;
using Microsandbox.Spec;

namespace Microsandbox.Runtime;

/// <summary>How the main process ended: its exit code (-1 when a signal killed it), or why it never started.</summary>
/// <param name="ExitCode">The exit status (127/126 when it could not be started); null when its session was lost.</param>
/// <param name="Failure">Why it could not be started (the guest agent's message) or was lost.</param>
internal sealed record MainProcessExit(int? ExitCode, string? Failure)
{
    public bool Succeeded => ExitCode == 0;

    public override string ToString() => Failure is { } f ? $"failed: {f}" : $"exited with code {ExitCode}";
}

/// <summary>
/// The sandbox's main process, run by the sandbox process as an exec session through its own relay, exactly as a
/// client would (upstream's <c>run_startup_command</c>): the guest agent stays PID 1 and runs it as a session and
/// process-group leader. Its output goes to <see cref="ExecLog"/>; a stop sends the stop signal to its group, waits the
/// grace period, then SIGKILL.
/// </summary>
internal sealed class MainProcess : IAsyncDisposable
{
    private const int SigKill = 9;
    private readonly AgentClient _client;
    private readonly ExecSession _session;
    private readonly ExecLog.Writer _log;
    private readonly RuntimeLog _runtimeLog;
    private readonly StartupCommand _command;
    private readonly string _consoleLog;

    private MainProcess(AgentClient client, ExecSession session, ExecLog.Writer log, RuntimeLog runtimeLog, StartupCommand command, string consoleLog)
    {
        _client = client;
        _session = session;
        _log = log;
        _runtimeLog = runtimeLog;
        _command = command;
        _consoleLog = consoleLog;
        Exited = PumpAsync();
    }

    /// <summary>Completes when the main process has ended and its output is in the log.</summary>
    public Task<MainProcessExit> Exited { get; }

    /// <summary>The main process's session id (the same in a ready-state template's clones).</summary>
    public uint SessionId => _session.Id;

    /// <summary>Copies the files in, then starts the main process over <paramref name="connection"/> (a relay client stream).</summary>
    public static async Task<MainProcess> StartAsync(Stream connection, StartupCommand command, string logDir, string consoleLog, RuntimeLog runtimeLog, CancellationToken cancellationToken)
    {
        var log = new ExecLog.Writer(logDir);
        AgentClient? client = null;
        try
        {
            client = await AgentClient.ConnectAsync(connection, null, cancellationToken).ConfigureAwait(false);
            foreach (var file in command.Files)
            {
                try
                {
                    await GuestCopy.CopyInAsync(client, file.Src, file.Dst, file.Mode, file.Uid, file.Gid, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is MicrosandboxException or IOException)
                {
                    throw new MicrosandboxException($"copying {file.Src} to {file.Dst} in the guest before the main process failed: {e.Message}", e);
                }
            }
            var request = new ExecRequest(command.Cmd)
            {
                Args = command.Args,
                Env = command.Env,
                Cwd = command.Cwd,
                User = command.User,
            };
            var argv = string.Join(' ', new[] { command.Cmd }.Concat(command.Args));
            runtimeLog.Info($"starting main process: {argv}");
            log.WriteSystem($"starting main process: {argv}");
            var session = await client.ExecAsync(request, closeStdin: true, cancellationToken).ConfigureAwait(false);
            return new MainProcess(client, session, log, runtimeLog, command, consoleLog);
        }
        catch (Exception e)
        {
            // Said where the sandbox's user reads: its logs, and the failure tail of a wait.
            log.WriteSystem($"main process could not start: {e.Message}");
            if (client is not null) await client.DisposeAsync().ConfigureAwait(false);
            log.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes over the main process of a guest resumed from a ready-state template: it already runs there as session
    /// <paramref name="sessionId"/>, whose id range <paramref name="connection"/> owns.
    /// </summary>
    public static async Task<MainProcess> AdoptAsync(Stream connection, uint sessionId, StartupCommand command, string logDir, string consoleLog, RuntimeLog runtimeLog, CancellationToken cancellationToken)
    {
        var client = await AgentClient.ConnectAsync(connection, null, cancellationToken).ConfigureAwait(false);
        var log = new ExecLog.Writer(logDir);
        runtimeLog.Info($"adopted main process session {sessionId} from the ready-state template");
        return new MainProcess(client, client.AdoptExecSession(sessionId, command.Cmd), log, runtimeLog, command, consoleLog);
    }

    private async Task<MainProcessExit> PumpAsync()
    {
        await Task.Yield();
        MainProcessExit exit;
        try
        {
            exit = new MainProcessExit(null, "the guest agent closed the session before the main process ended");
            await foreach (var e in _session.ReadEventsAsync().ConfigureAwait(false))
            {
                switch (e)
                {
                    case ExecEvent.Started started:
                        _log.WriteSystem($"main process started (pid {started.Pid})");
                        break;
                    case ExecEvent.Stdout o:
                        _log.Write(LogSource.Stdout, _session.Id, o.Data.Span);
                        break;
                    case ExecEvent.Stderr o:
                        _log.Write(LogSource.Stderr, _session.Id, o.Data.Span);
                        break;
                    case ExecEvent.Exited exited:
                        // Killed by a signal: when the guest kernel's OOM killer did it, its console says so.
                        exit = new MainProcessExit(exited.Code, exited.Code == -1 ? await OomKillAsync().ConfigureAwait(false) : null);
                        break;
                    case ExecEvent.Failed failed:
                        // Recorded as a shell (and Docker) reports a command that cannot run: 127 not found, else 126.
                        exit = new MainProcessExit(failed.Error.Kind == ExecFailureKind.NotFound ? 127 : 126, failed.Error.Message);
                        break;
                }
            }
        }
        catch (Exception e) when (e is AgentConnectionException or AgentProtocolException or IOException or ObjectDisposedException)
        {
            exit = new MainProcessExit(null, $"lost the main process's session: {e.Message}");
        }
        _log.Flush(_session.Id);
        _log.WriteSystem($"main process {exit}");
        _runtimeLog.Info($"main process {exit}");
        return exit;
    }

    /// <summary>
    /// The guest kernel's out-of-memory kill line from the console's tail, as the reason a main process died of a
    /// signal; null when there is none. The console file may lag the agent's report by a moment.
    /// </summary>
    private async Task<string?> OomKillAsync()
    {
        for (int attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                var line = Host.LogTail.Lines(_consoleLog).LastOrDefault(l => l.Contains("Out of memory: Killed process", StringComparison.Ordinal));
                if (line is not null)
                {
                    var at = line.IndexOf("Out of memory", StringComparison.Ordinal);
                    return $"killed by the guest's out-of-memory killer ({line[at..].Trim()}); give the sandbox more memory (SandboxBuilder.Memory)";
                }
            }
            catch (IOException)
            {
                return null;
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        return null;
    }

    /// <summary>
    /// Stops it as a container runtime does: the stop signal to its process group, then SIGKILL after the grace
    /// period. Returns how it ended.
    /// </summary>
    public async Task<MainProcessExit> StopAsync()
    {
        if (Exited.IsCompleted) return await Exited.ConfigureAwait(false);
        var grace = TimeSpan.FromSeconds(Math.Max(0, _command.StopGraceSecs));
        _runtimeLog.Info($"stopping main process: {Host.Signals.Name(_command.StopSignal)}, then SIGKILL after {grace.TotalSeconds:0.#} s");
        _log.WriteSystem($"stopping main process with {Host.Signals.Name(_command.StopSignal)}");
        if (await SignalAsync(_command.StopSignal).ConfigureAwait(false)
            && await Task.WhenAny(Exited, Task.Delay(grace)).ConfigureAwait(false) == Exited)
            return await Exited.ConfigureAwait(false);
        _runtimeLog.Warn($"main process did not exit within {grace.TotalSeconds:0.#} s of {Host.Signals.Name(_command.StopSignal)}; sending SIGKILL");
        _log.WriteSystem("main process did not stop in time; sending SIGKILL");
        await SignalAsync(SigKill).ConfigureAwait(false);
        // A guest that no longer answers must not hold the stop forever: the VM is powered off next anyway.
        await Task.WhenAny(Exited, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        return Exited.IsCompleted ? await Exited.ConfigureAwait(false) : new MainProcessExit(null, "killed with the VM");
    }

    private async Task<bool> SignalAsync(int signal)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _session.SignalAsync(signal, cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is AgentConnectionException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            _runtimeLog.Warn($"could not signal the main process: {e.Message}");
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync().ConfigureAwait(false);
        try
        {
            await Exited.ConfigureAwait(false);
        }
        finally
        {
            _log.Dispose();
        }
    }
}
