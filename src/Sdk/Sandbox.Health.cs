using Microsandbox.Config;
using Microsoft.Extensions.Logging;

namespace Microsandbox;

public sealed partial class Sandbox
{
    private readonly CancellationTokenSource _healthStop = new();
    private readonly TaskCompletionSource<HealthStatus> _healthSettled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile int _health = (int)HealthStatus.None;

    /// <summary>
    /// The main process's health (<see cref="HealthStatus.None"/> without a health check), kept current by checks in
    /// the background as Docker does: the image's <c>HEALTHCHECK</c> (or the builder's), every interval, a failure
    /// counting outside the start period, unhealthy after the retries fail in a row.
    /// </summary>
    public HealthStatus Health => (HealthStatus)_health;

    private const int MaxHealthOutput = 4096;

    /// <summary>The last check's output (stdout and stderr as they came, at most 4 KiB), for messages.</summary>
    public string LastHealthOutput { get; private set; } = "";

    /// <summary>Completes with Healthy or Unhealthy, whichever comes first.</summary>
    internal Task<HealthStatus> WaitForHealthAsync(CancellationToken cancellationToken) => _healthSettled.Task.WaitAsync(cancellationToken);

    /// <summary>Starts the background checks; until the first one passes they run every second at most (Docker's start interval).</summary>
    internal void StartHealthChecks(ImageHealthcheck check)
    {
        var argv = check.Argv(Spec.Runtime.Shell ?? "/bin/sh") ?? throw new InvalidOperationException("the health check is disabled");
        _health = (int)HealthStatus.Starting;
        var token = _healthStop.Token;
        _ = Task.Run(async () =>
        {
            var started = DateTimeOffset.UtcNow;
            bool everHealthy = false;
            int failures = 0;
            while (!token.IsCancellationRequested && !_process.HasExited)
            {
                bool passed = await RunHealthCheckAsync(argv, check.Timeout, token).ConfigureAwait(false);
                if (token.IsCancellationRequested) return;
                if (passed)
                {
                    failures = 0;
                    everHealthy = true;
                    SetHealth(HealthStatus.Healthy);
                }
                // In the start period failures do not count, until a first success ends it (as Docker does).
                else if ((everHealthy || DateTimeOffset.UtcNow - started >= check.StartPeriod) && ++failures >= check.Retries)
                {
                    SetHealth(HealthStatus.Unhealthy);
                }
                var pause = Health == HealthStatus.Starting ? TimeSpan.FromTicks(Math.Min(check.Interval.Ticks, TimeSpan.TicksPerSecond)) : check.Interval;
                try
                {
                    await Task.Delay(pause, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }, CancellationToken.None);
    }

    private async Task<bool> RunHealthCheckAsync(IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken token)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(token);
        cts.CancelAfter(timeout);
        try
        {
            // The check's output is the guest's to choose: keep the first 4 KiB, drop the rest as it streams.
            var kept = new MemoryStream();
            int? code = null;
            await foreach (var e in ExecEventsAsync(new ExecCommand(argv[0]) { Arguments = [.. argv.Skip(1)] }, cts.Token).ConfigureAwait(false))
            {
                var data = e switch { Agent.ExecEvent.Stdout o => o.Data, Agent.ExecEvent.Stderr o => o.Data, _ => default };
                if (data.Length > 0 && kept.Length < MaxHealthOutput) kept.Write(data.Span[..(int)Math.Min(data.Length, MaxHealthOutput - kept.Length)]);
                if (e is Agent.ExecEvent.Exited x) code = x.Code;
            }
            LastHealthOutput = System.Text.Encoding.UTF8.GetString(kept.GetBuffer(), 0, (int)kept.Length).TrimEnd();
            return code == 0;
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            LastHealthOutput = $"the check did not finish within {timeout.TotalSeconds:0.#} s";
            return false;
        }
        catch (MicrosandboxException e)
        {
            LastHealthOutput = e.Message;
            return false;
        }
    }

    /// <summary>Stops what the handle runs by itself (health checks, log readers); the launcher kills and removes the rest.</summary>
    internal void AbandonAfterFailedCreate()
    {
        _healthStop.Cancel();
        _lastWords.Dispose();
    }

    private void SetHealth(HealthStatus status)
    {
        var was = (HealthStatus)Interlocked.Exchange(ref _health, (int)status);
        if (was != status) _logger.LogInformation("sandbox {Name} is {Health}", Name, status.ToString().ToLowerInvariant());
        _healthSettled.TrySetResult(status);
    }
}
