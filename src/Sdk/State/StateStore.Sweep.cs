using Microsoft.Extensions.Logging;
using System.Security.Cryptography;
using System.Text;

namespace Microsandbox.State;

// Reconciling rows whose sandbox process died without recording it.
public sealed partial class StateStore
{
    /// <summary>
    /// Closes sandboxes whose owning process is gone, as <c>msb ls</c> does before it lists: for every
    /// Running or Draining sandbox whose active run's pid is dead, the run becomes Terminated
    /// (<see cref="TerminationReason.InternalError"/>, or <see cref="TerminationReason.ShutdownRequested"/> for a
    /// Draining sandbox) and the sandbox Crashed (Stopped if it was Draining), <c>active_config</c> cleared.
    /// A Running sandbox with no run yet is left alone (it is still starting); a Draining one with no run is
    /// closed as Stopped. Sandboxes whose lifecycle lock (<c>run/locks/&lt;hash&gt;.lock</c>) is held by a live
    /// owner are skipped.
    /// </summary>
    /// <param name="cancellationToken">Cancels the sweep between sandboxes.</param>
    /// <returns>The sandboxes this sweep changed.</returns>
    public Task<IReadOnlyList<StaleSandbox>> SweepStaleAsync(CancellationToken cancellationToken = default) =>
        SweepStaleAsync(ProcessProbe.IsAlive, cancellationToken);

    /// <summary>How long a sandbox row may sit Running without a run before an unowned one counts as abandoned.</summary>
    internal static readonly TimeSpan StartingGrace = TimeSpan.FromMinutes(2);

    private static bool IsStillStarting(SandboxStatus status, DateTime? updatedAt) =>
        status != SandboxStatus.Draining && (updatedAt is not { } updated || DateTime.UtcNow - updated < StartingGrace);

    /// <summary>The sweep with an injectable liveness check (tests simulate dead and live pids).</summary>
    internal async Task<IReadOnlyList<StaleSandbox>> SweepStaleAsync(Func<int, bool> isProcessAlive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(isProcessAlive);
        await using var connection = await ConnectAsync(cancellationToken);
        var active = await QueryAsync(connection, null,
            "SELECT id, name, status, updated_at FROM sandbox WHERE status IN ('Running', 'Draining') ORDER BY id",
            reader => (Id: reader.GetInt64(0), Name: reader.GetString(1), Status: StateText.ParseSandboxStatus(reader.GetString(2)),
                UpdatedAt: MsbTimestamp.ParseOrNull(reader.IsDBNull(3) ? null : reader.GetValue(3))),
            cancellationToken);

        var closed = new List<StaleSandbox>();
        foreach (var candidate in active)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var run = await GetActiveRunAsync(candidate.Id, cancellationToken);
            // A Running row without a run is a sandbox still starting (as msb sees it) — unless it has been "starting"
            // far longer than any launch takes and nobody holds its lifecycle lock (checked below): its launcher died
            // between writing the row and spawning.
            if ((run is null && IsStillStarting(candidate.Status, candidate.UpdatedAt)) || (run?.Pid is { } livePid && isProcessAlive(livePid)))
            {
                continue;
            }

            using var ownership = FileLock.TryAcquireExisting(LifecycleLockPath(candidate.Name));
            if (ownership is null)
            {
                continue;
            }

            if (await CloseStaleAsync(candidate.Id, run?.Id, isProcessAlive, cancellationToken) is { } result)
            {
                closed.Add(result);
            }
        }

        await CloseOrphanRunsAsync(isProcessAlive, cancellationToken);
        return closed;
    }

    // A run still marked Running under a sandbox that no longer is: its process died before it could write its end
    // (msb aborting on a host without /dev/kvm leaves exactly this). A dead pid is proof enough; a live one is left.
    private async Task CloseOrphanRunsAsync(Func<int, bool> isProcessAlive, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        var orphans = await QueryAsync(connection, null,
            "SELECT run.id, run.pid, sandbox.name FROM run JOIN sandbox ON sandbox.id = run.sandbox_id " +
            "WHERE run.status = 'Running' AND run.pid IS NOT NULL AND sandbox.status NOT IN ('Running', 'Draining') ORDER BY run.id",
            reader => (Id: reader.GetInt64(0), Pid: reader.GetInt32(1), Name: reader.GetString(2)),
            cancellationToken);
        foreach (var orphan in orphans.Where(o => !isProcessAlive(o.Pid)))
        {
            await ExecuteAsync(connection, null,
                "UPDATE run SET status = 'Terminated', termination_reason = $reason, terminated_at = $now WHERE id = $id AND status = 'Running'",
                cancellationToken, ("$reason", StateText.From(TerminationReason.InternalError)), ("$now", Now()), ("$id", orphan.Id));
            _logger.LogInformation("Run {Run} of stopped sandbox {Name} had no live process (pid {Pid}); marked Terminated", orphan.Id, orphan.Name, orphan.Pid);
        }
    }

    /// <summary>msb's per-sandbox lifecycle lock: <c>&lt;home&gt;/run/locks/&lt;first 32 hex of sha256(name)&gt;.lock</c>.</summary>
    internal string LifecycleLockPath(string sandboxName) => new Host.MicrosandboxHome(Home).LifecycleLockPath(sandboxName);

    private async Task<StaleSandbox?> CloseStaleAsync(long sandboxId, long? runId, Func<int, bool> isProcessAlive,
        CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);

        // Re-read under the write lock: another sweeper or a restart may have changed the rows meanwhile.
        var current = (await ReadSandboxesAsync(connection, transaction, $"SELECT {SandboxColumns} FROM sandbox WHERE id = $id",
            cancellationToken, ("$id", sandboxId))).SingleOrDefault();
        if (current is null || current.Status is not (SandboxStatus.Running or SandboxStatus.Draining))
        {
            return null;
        }

        var run = (await ReadRunsAsync(connection, transaction,
            $"SELECT {RunColumns} FROM run WHERE sandbox_id = $sandbox AND status = 'Running' ORDER BY started_at DESC, id DESC LIMIT 1",
            cancellationToken, ("$sandbox", sandboxId))).SingleOrDefault();
        if (run?.Id != runId || (run is null && IsStillStarting(current.Status, current.UpdatedAt)) || (run?.Pid is { } pid && isProcessAlive(pid)))
        {
            return null;
        }

        var (newStatus, reason) = current.Status == SandboxStatus.Draining
            ? (SandboxStatus.Stopped, TerminationReason.ShutdownRequested)
            : (SandboxStatus.Crashed, TerminationReason.InternalError);
        var now = Now();
        if (run is not null)
        {
            await ExecuteAsync(connection, transaction,
                "UPDATE run SET status = 'Terminated', termination_reason = $reason, terminated_at = $now WHERE id = $id AND status = 'Running'",
                cancellationToken, ("$reason", StateText.From(reason)), ("$now", now), ("$id", run.Id));
        }

        await ExecuteAsync(connection, transaction,
            "UPDATE sandbox SET status = $status, active_config = NULL, updated_at = $now WHERE id = $id AND status IN ('Running', 'Draining')",
            cancellationToken, ("$status", StateText.From(newStatus)), ("$now", now), ("$id", sandboxId));
        await transaction.CommitAsync(cancellationToken);

        _logger.LogInformation("Sandbox {Name} had no live process (pid {Pid}); marked {Status}", current.Name, run?.Pid, newStatus);
        return new StaleSandbox(sandboxId, current.Name, current.Status, newStatus, run?.Id, run?.Pid);
    }
}
