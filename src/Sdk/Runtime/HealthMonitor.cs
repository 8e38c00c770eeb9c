using Microsandbox.Agent;

namespace Microsandbox.Runtime;

/// <summary>
/// The main process's health checks, run by the sandbox process as Docker runs them: the check command every
/// interval (every second at most until a first success, Docker's start interval), each within its timeout; failures
/// count outside the start period (which a first success ends), unhealthy after the retries fail in a row. The state
/// goes to <see cref="HealthState"/>; the check's output is the guest's to choose, so only its first 4 KiB are kept.
/// </summary>
internal sealed class HealthMonitor : IAsyncDisposable
{
    private const int MaxOutput = 4096;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private HealthMonitor(string agentSock, StartupHealthcheck check, string logDir, RuntimeLog log) =>
        _loop = Task.Run(() => RunAsync(agentSock, check, logDir, log, _stop.Token));

    public static HealthMonitor Start(string agentSock, StartupHealthcheck check, string logDir, RuntimeLog log)
    {
        new HealthState(HealthStatus.Starting, 0, "", DateTimeOffset.UtcNow).Write(logDir);
        return new HealthMonitor(agentSock, check, logDir, log);
    }

    private static async Task RunAsync(string agentSock, StartupHealthcheck check, string logDir, RuntimeLog log, CancellationToken token)
    {
        var started = DateTimeOffset.UtcNow;
        var status = HealthStatus.Starting;
        bool everHealthy = false;
        int failures = 0;
        try
        {
            await using var client = await AgentClient.ConnectAsync(agentSock, null, token).ConfigureAwait(false);
            while (!token.IsCancellationRequested)
            {
                var (passed, output) = await CheckAsync(client, check, token).ConfigureAwait(false);
                if (token.IsCancellationRequested) return;
                if (passed)
                {
                    failures = 0;
                    everHealthy = true;
                }
                else if (everHealthy || DateTimeOffset.UtcNow - started >= TimeSpan.FromSeconds(check.StartPeriodSecs))
                {
                    failures++;
                }
                var now = passed ? HealthStatus.Healthy : failures >= check.Retries ? HealthStatus.Unhealthy : status;
                if (now != status) log.Info($"main process is {now.ToString().ToLowerInvariant()}");
                status = now;
                new HealthState(status, failures, output, DateTimeOffset.UtcNow).Write(logDir);
                var pause = status == HealthStatus.Starting ? Math.Min(check.IntervalSecs, 1) : check.IntervalSecs;
                await Task.Delay(TimeSpan.FromSeconds(pause), token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is MicrosandboxException or IOException)
        {
            log.Warn($"health checks stopped: {e.Message}");
        }
    }

    private static async Task<(bool Passed, string Output)> CheckAsync(AgentClient client, StartupHealthcheck check, CancellationToken token)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(token);
        cts.CancelAfter(TimeSpan.FromSeconds(check.TimeoutSecs));
        var kept = new MemoryStream();
        try
        {
            await using var session = await client.ExecAsync(new ExecRequest(check.Test[0]) { Args = [.. check.Test.Skip(1)] }, closeStdin: true, cts.Token).ConfigureAwait(false);
            int? code = null;
            string? failed = null;
            await foreach (var e in session.ReadEventsAsync(cts.Token).ConfigureAwait(false))
            {
                var data = e switch { ExecEvent.Stdout o => o.Data, ExecEvent.Stderr o => o.Data, _ => default };
                if (data.Length > 0 && kept.Length < MaxOutput) kept.Write(data.Span[..(int)Math.Min(data.Length, MaxOutput - kept.Length)]);
                if (e is ExecEvent.Exited x) code = x.Code;
                if (e is ExecEvent.Failed f) failed = f.Error.Message;
            }
            var output = failed ?? System.Text.Encoding.UTF8.GetString(kept.GetBuffer(), 0, (int)kept.Length).TrimEnd();
            return (code == 0, output);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            return (false, $"the check did not finish within {check.TimeoutSecs:0.#} s");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
