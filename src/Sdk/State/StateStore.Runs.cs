using Microsoft.Data.Sqlite;

namespace Microsandbox.State;

// Rows of `run`.
public sealed partial class StateStore
{
    private const string RunColumns =
        "id, sandbox_id, pid, status, exit_code, exit_signal, termination_reason, termination_detail, signals_sent, started_at, terminated_at";

    /// <summary>
    /// Inserts a <see cref="RunStatus.Running"/> run for a sandbox, <c>started_at</c> = now, as the sandbox
    /// process does right after it starts. The pid must be the sandbox process itself: <c>msb ls</c> marks
    /// the sandbox Crashed as soon as that pid is dead.
    /// </summary>
    /// <param name="sandboxId">The sandbox row id.</param>
    /// <param name="pid">Pid of the process hosting the VM (null only if not known yet; see <see cref="SetRunPidAsync"/>).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="MicrosandboxException">There is no sandbox with that id.</exception>
    public async Task<RunRecord> InsertRunAsync(long sandboxId, int? pid, CancellationToken cancellationToken = default)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        long id;
        try
        {
            id = (long)(await ScalarAsync(connection, null,
                "INSERT INTO run (sandbox_id, pid, status, started_at) VALUES ($sandbox, $pid, $status, $now) RETURNING id",
                cancellationToken, ("$sandbox", sandboxId), ("$pid", pid), ("$status", StateText.From(RunStatus.Running)), ("$now", Now())))!;
        }
        catch (SqliteException exception) when (exception.SqliteErrorCode == 19)
        {
            throw new MicrosandboxException($"cannot record a run: there is no sandbox with id {sandboxId} in {DatabasePath}", exception);
        }

        return (await GetRunAsync(id, cancellationToken))!;
    }

    /// <summary>Sets the pid of a run (for a run inserted before its process existed).</summary>
    /// <param name="runId">Run row id.</param>
    /// <param name="pid">Pid of the sandbox process.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>False when no such run exists.</returns>
    public async Task<bool> SetRunPidAsync(long runId, int pid, CancellationToken cancellationToken = default)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        return await ExecuteAsync(connection, null, "UPDATE run SET pid = $pid WHERE id = $id",
            cancellationToken, ("$pid", pid), ("$id", runId)) > 0;
    }

    /// <summary>
    /// Marks a still-running run <see cref="RunStatus.Terminated"/> with its reason, exit code/signal, detail and
    /// <c>terminated_at</c> = now. Does not touch the sandbox row (see <see cref="EndRunAsync"/>).
    /// </summary>
    /// <param name="runId">Run row id.</param>
    /// <param name="termination">How the run ended.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>False when the run does not exist or was already terminated (the first end recorded wins).</returns>
    public async Task<bool> FinishRunAsync(long runId, RunTermination termination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(termination);
        await using var connection = await ConnectAsync(cancellationToken);
        return await FinishRunCoreAsync(connection, null, runId, termination, Now(), cancellationToken);
    }

    /// <summary>
    /// What a sandbox process records when its VM ends, in one transaction: the run becomes Terminated (as
    /// <see cref="FinishRunAsync"/>), and its sandbox becomes <paramref name="sandboxStatus"/> with
    /// <c>active_config</c> cleared. An ephemeral sandbox is then removed only if <paramref name="removeIfEphemeral"/>.
    /// </summary>
    /// <param name="runId">Run row id.</param>
    /// <param name="termination">How the run ended.</param>
    /// <param name="sandboxStatus">The sandbox's new status; msb's runtime always writes Stopped.</param>
    /// <param name="removeIfEphemeral">Delete the sandbox row afterwards when it is ephemeral (msb's self-clean).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>False when the run does not exist or was already terminated; nothing is changed then.</returns>
    public async Task<bool> EndRunAsync(long runId, RunTermination termination, SandboxStatus sandboxStatus = SandboxStatus.Stopped,
        bool removeIfEphemeral = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(termination);
        await using var connection = await ConnectAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var sandboxId = (long?)await ScalarAsync(connection, transaction, "SELECT sandbox_id FROM run WHERE id = $id",
            cancellationToken, ("$id", runId));
        var now = Now();
        if (sandboxId is null || !await FinishRunCoreAsync(connection, transaction, runId, termination, now, cancellationToken))
        {
            return false;
        }

        var sql = ClearsActiveConfig(sandboxStatus)
            ? "UPDATE sandbox SET status = $status, active_config = NULL, updated_at = $now WHERE id = $id"
            : "UPDATE sandbox SET status = $status, updated_at = $now WHERE id = $id";
        await ExecuteAsync(connection, transaction, sql, cancellationToken,
            ("$status", StateText.From(sandboxStatus)), ("$now", now), ("$id", sandboxId.Value));
        if (removeIfEphemeral)
        {
            await ExecuteAsync(connection, transaction,
                "DELETE FROM sandbox WHERE id = $id AND ephemeral = 1 AND status IN ('Stopped', 'Crashed')",
                cancellationToken, ("$id", sandboxId.Value));
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The run with row id <paramref name="runId"/>, or null.</summary>
    /// <param name="runId">Run row id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<RunRecord?> GetRunAsync(long runId, CancellationToken cancellationToken = default)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        var rows = await ReadRunsAsync(connection, null, $"SELECT {RunColumns} FROM run WHERE id = $id", cancellationToken, ("$id", runId));
        return rows.SingleOrDefault();
    }

    /// <summary>The sandbox's most recently started run that is still <see cref="RunStatus.Running"/>, or null (msb's "active run").</summary>
    /// <param name="sandboxId">The sandbox row id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<RunRecord?> GetActiveRunAsync(long sandboxId, CancellationToken cancellationToken = default)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        var rows = await ReadRunsAsync(connection, null,
            $"SELECT {RunColumns} FROM run WHERE sandbox_id = $sandbox AND status = 'Running' ORDER BY started_at DESC, id DESC LIMIT 1",
            cancellationToken, ("$sandbox", sandboxId));
        return rows.SingleOrDefault();
    }

    /// <summary>All runs of a sandbox, oldest first.</summary>
    /// <param name="sandboxId">The sandbox row id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<IReadOnlyList<RunRecord>> ListRunsAsync(long sandboxId, CancellationToken cancellationToken = default)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        return await ReadRunsAsync(connection, null, $"SELECT {RunColumns} FROM run WHERE sandbox_id = $sandbox ORDER BY id",
            cancellationToken, ("$sandbox", sandboxId));
    }

    private static async Task<bool> FinishRunCoreAsync(SqliteConnection connection, SqliteTransaction? transaction, long runId,
        RunTermination termination, string now, CancellationToken cancellationToken)
    {
        var changed = await ExecuteAsync(connection, transaction,
            "UPDATE run SET status = $status, termination_reason = $reason, exit_code = $code, exit_signal = $signal, " +
            "termination_detail = $detail, terminated_at = $now WHERE id = $id AND status = 'Running'",
            cancellationToken,
            ("$status", StateText.From(RunStatus.Terminated)), ("$reason", StateText.From(termination.Reason)),
            ("$code", termination.ExitCode), ("$signal", termination.ExitSignal), ("$detail", termination.Detail),
            ("$now", now), ("$id", runId));
        return changed > 0;
    }

    private static Task<List<RunRecord>> ReadRunsAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql,
        CancellationToken cancellationToken, params (string Name, object? Value)[] parameters) =>
        QueryAsync(connection, transaction, sql, reader => new RunRecord(
            Id: reader.GetInt64(reader.GetOrdinal("id")),
            SandboxId: reader.GetInt64(reader.GetOrdinal("sandbox_id")),
            Pid: Int32OrNull(reader, "pid"),
            Status: StateText.ParseRunStatus(reader.GetString(reader.GetOrdinal("status"))),
            ExitCode: Int32OrNull(reader, "exit_code"),
            ExitSignal: Int32OrNull(reader, "exit_signal"),
            TerminationReason: TextOrNull(reader, "termination_reason") is { } reason ? StateText.ParseTerminationReason(reason) : null,
            TerminationDetail: TextOrNull(reader, "termination_detail"),
            SignalsSent: TextOrNull(reader, "signals_sent"),
            StartedAt: TimeOrNull(reader, "started_at"),
            TerminatedAt: TimeOrNull(reader, "terminated_at")), cancellationToken, parameters);
}
