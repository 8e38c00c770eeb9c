using Microsandbox.Runtime;

namespace Microsandbox;

public sealed partial class Sandbox
{
    /// <summary>
    /// The main process's health (<see cref="HealthStatus.None"/> without a health check), as the sandbox process's
    /// checks last found it (Docker's rules: the image's <c>HEALTHCHECK</c> or the builder's, every interval, failures
    /// counting outside the start period, unhealthy after the retries fail in a row). The same for every reader:
    /// this handle, <see cref="Sandboxes.InspectAsync"/>, <c>microsandbox inspect</c>.
    /// </summary>
    public HealthStatus Health => _main?.Healthcheck is null ? HealthStatus.None : HealthState.Read(LogDirectory)?.Status ?? HealthStatus.Starting;

    /// <summary>The last check's output (stdout and stderr as they came, at most 4 KiB), for messages.</summary>
    public string LastHealthOutput => HealthState.Read(LogDirectory)?.LastOutput ?? "";

    /// <summary>Completes with Healthy or Unhealthy, whichever the checks reach first.</summary>
    internal async Task<HealthStatus> WaitForHealthAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var health = Health;
            if (health is HealthStatus.Healthy or HealthStatus.Unhealthy) return health;
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops what the handle runs by itself; the launcher kills and removes the rest.</summary>
    internal void AbandonAfterFailedCreate() => _lastWords.Dispose();
}
