using System.Diagnostics;
using Microsandbox.Config;
using Microsoft.Extensions.Logging;

namespace Microsandbox;

/// <summary>Runs a config's readiness waits on a fresh sandbox, each within its timeout, racing the sandbox's end.</summary>
internal static class WaitRunner
{
    /// <summary>Refuses waits the sandbox cannot satisfy, before anything boots.</summary>
    public static void Validate(SandboxConfig config, Spec.SandboxSpec spec)
    {
        foreach (var wait in config.Waits) wait.Validate(spec, config);
    }

    /// <summary>Returns when every wait holds; otherwise throws <see cref="WaitFailedException"/> (the caller tears the sandbox down).</summary>
    public static async Task RunAsync(Sandbox sandbox, IReadOnlyList<WaitStrategy> waits, ILogger logger, CancellationToken cancellationToken)
    {
        foreach (var wait in waits)
        {
            logger.LogInformation("sandbox {Name}: waiting for {Wait} (up to {Timeout:0.#} s)", sandbox.Name, wait.Description, wait.Timeout.TotalSeconds);
            var clock = Stopwatch.StartNew();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(wait.Timeout);
            // Watched apart from the wait's timeout: a timeout must not read as the sandbox ending.
            using var endWatch = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var holds = wait.UntilAsync(sandbox, cts.Token);
            var ended = sandbox.WaitForExitAsync(endWatch.Token);
            try
            {
                if (await Task.WhenAny(holds, ended).ConfigureAwait(false) == ended && ended.IsCompletedSuccessfully && !holds.IsCompleted)
                {
                    await cts.CancelAsync().ConfigureAwait(false);
                    throw await EndedFirstAsync(sandbox, wait).ConfigureAwait(false);
                }
                await holds.ConfigureAwait(false);
            }
            catch (Exception e) when (e is MicrosandboxException and not WaitFailedException or IOException)
            {
                // The check lost the guest because the sandbox went away: that is the news, not the broken connection.
                if (await HasEndedAsync(sandbox).ConfigureAwait(false)) throw await EndedFirstAsync(sandbox, wait).ConfigureAwait(false);
                throw;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw await FailedAsync(sandbox, wait, $"it did not hold within {wait.Timeout.TotalSeconds:0.#} s").ConfigureAwait(false);
            }
            catch (WaitNeverHolds e)
            {
                throw await FailedAsync(sandbox, wait, e.Message).ConfigureAwait(false);
            }
            finally
            {
                await cts.CancelAsync().ConfigureAwait(false);
                await endWatch.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(holds, ended).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
            logger.LogInformation("sandbox {Name}: {Wait} held after {Elapsed:0} ms", sandbox.Name, wait.Description, clock.Elapsed.TotalMilliseconds);
        }
    }

    private static async Task<bool> HasEndedAsync(Sandbox sandbox)
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await sandbox.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<WaitFailedException> EndedFirstAsync(Sandbox sandbox, WaitStrategy wait)
    {
        var code = await sandbox.GetExitCodeAsync(CancellationToken.None).ConfigureAwait(false);
        return await FailedAsync(sandbox, wait, (sandbox.HasMainProcess, code) switch
        {
            (false, _) => "the sandbox stopped first",
            (true, { } c) => $"the main process exited with code {c.ToString(System.Globalization.CultureInfo.InvariantCulture)} first",
            // Never started (no such program, a failed copy-in): the last log lines say why.
            (true, null) => "the main process ended before it ran",
        }).ConfigureAwait(false);
    }

    private static async Task<WaitFailedException> FailedAsync(Sandbox sandbox, WaitStrategy wait, string reason)
    {
        // The runtime's own lines too: "main process could not start: …" is often the whole story.
        var last = await sandbox.GetLogsAsync(new LogOptions { Tail = 10, Sources = [Spec.LogSource.Stdout, Spec.LogSource.Stderr, Spec.LogSource.Output, Spec.LogSource.System] }, CancellationToken.None).ConfigureAwait(false);
        return new WaitFailedException(sandbox.Name, wait.Description, reason, [.. last.Select(l => l.Text)]);
    }
}
