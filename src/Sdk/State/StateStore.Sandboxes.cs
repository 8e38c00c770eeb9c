using Microsoft.Data.Sqlite;

namespace Microsandbox.State;

// Rows of `sandbox` and `sandbox_labels`.
public sealed partial class StateStore
{
    private const string SandboxColumns =
        "id, name, config, active_config, status, ephemeral, created_at, updated_at, network_slot";

    /// <summary>
    /// Inserts a sandbox row the way msb's create does: <c>created_at</c> = <c>updated_at</c> = now, labels and
    /// <c>ephemeral</c> taken from the config JSON (<c>labels</c>, <c>lifecycle.ephemeral</c>), all in one transaction.
    /// </summary>
    /// <param name="name">Unique sandbox name; must match the config's <c>name</c> when the config has one.</param>
    /// <param name="configJson">The sandbox config as upstream serializes it (stored verbatim in <c>sandbox.config</c>).</param>
    /// <param name="status">Initial status; msb inserts <see cref="SandboxStatus.Running"/> just before it spawns the sandbox process.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="MicrosandboxException">A sandbox with this name already exists.</exception>
    public async Task<SandboxRecord> InsertSandboxAsync(string name, string configJson,
        SandboxStatus status = SandboxStatus.Running, CancellationToken cancellationToken = default)
    {
        RequireName(name, nameof(name));
        ArgumentNullException.ThrowIfNull(configJson);
        var facts = SandboxConfigFacts.Read(configJson, name);

        await using var connection = await ConnectAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var now = Now();
        try
        {
            await ExecuteAsync(connection, transaction,
                "INSERT INTO sandbox (name, config, status, created_at, updated_at, ephemeral) " +
                "VALUES ($name, $config, $status, $now, $now, $ephemeral)",
                cancellationToken,
                ("$name", name), ("$config", configJson), ("$status", StateText.From(status)), ("$now", now),
                ("$ephemeral", facts.Ephemeral));
        }
        catch (SqliteException exception) when (IsUniqueViolation(exception))
        {
            throw new MicrosandboxException($"a sandbox named '{name}' already exists in {DatabasePath}", exception);
        }

        var id = (long)(await ScalarAsync(connection, transaction, "SELECT last_insert_rowid()", cancellationToken))!;
        await WriteLabelsAsync(connection, transaction, id, facts.Labels, cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        return (await GetSandboxByIdAsync(id, cancellationToken))!;
    }

    /// <summary>The sandbox named <paramref name="name"/>, or null.</summary>
    /// <param name="name">Sandbox name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<SandboxRecord?> GetSandboxAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await using var connection = await ConnectAsync(cancellationToken);
        var rows = await ReadSandboxesAsync(connection, null, $"SELECT {SandboxColumns} FROM sandbox WHERE name = $name",
            cancellationToken, ("$name", name));
        return rows.SingleOrDefault();
    }

    /// <summary>The sandbox with row id <paramref name="id"/>, or null.</summary>
    /// <param name="id">Row id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<SandboxRecord?> GetSandboxByIdAsync(long id, CancellationToken cancellationToken = default)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        var rows = await ReadSandboxesAsync(connection, null, $"SELECT {SandboxColumns} FROM sandbox WHERE id = $id",
            cancellationToken, ("$id", id));
        return rows.SingleOrDefault();
    }

    /// <summary>
    /// All sandboxes ordered by name, optionally only those carrying every label in <paramref name="labelFilter"/>
    /// (AND-matched, like <c>msb ls --label K=V</c>). Rows are returned as stored: call <see cref="SweepStaleAsync(CancellationToken)"/>
    /// first to close rows whose process died.
    /// </summary>
    /// <param name="labelFilter">Labels every returned sandbox must carry with exactly these values.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<IReadOnlyList<SandboxRecord>> ListSandboxesAsync(
        IReadOnlyDictionary<string, string>? labelFilter = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        var rows = await ReadSandboxesAsync(connection, null, $"SELECT {SandboxColumns} FROM sandbox ORDER BY name", cancellationToken);
        if (labelFilter is null || labelFilter.Count == 0)
        {
            return rows;
        }

        return rows.Where(row => labelFilter.All(wanted =>
            row.Labels.TryGetValue(wanted.Key, out var value) && string.Equals(value, wanted.Value, StringComparison.Ordinal))).ToList();
    }

    /// <summary>
    /// Sets a sandbox's status and <c>updated_at</c>. Like msb, moving to Created, Stopped or Crashed also clears
    /// <c>active_config</c>.
    /// </summary>
    /// <param name="sandboxId">Row id.</param>
    /// <param name="status">The new status.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>False when no such sandbox exists.</returns>
    public async Task<bool> UpdateSandboxStatusAsync(long sandboxId, SandboxStatus status, CancellationToken cancellationToken = default)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        var sql = ClearsActiveConfig(status)
            ? "UPDATE sandbox SET status = $status, updated_at = $now, active_config = NULL WHERE id = $id"
            : "UPDATE sandbox SET status = $status, updated_at = $now WHERE id = $id";
        var changed = await ExecuteAsync(connection, null, sql, cancellationToken,
            ("$status", StateText.From(status)), ("$now", Now()), ("$id", sandboxId));
        return changed > 0;
    }

    /// <summary>
    /// Replaces a sandbox's desired config, re-deriving its labels and <c>ephemeral</c> flag from it (one transaction).
    /// </summary>
    /// <param name="sandboxId">Row id.</param>
    /// <param name="configJson">The new config JSON; its <c>name</c>, if any, must match the row's.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>False when no such sandbox exists.</returns>
    public async Task<bool> UpdateSandboxConfigAsync(long sandboxId, string configJson, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configJson);
        await using var connection = await ConnectAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var name = (string?)await ScalarAsync(connection, transaction, "SELECT name FROM sandbox WHERE id = $id",
            cancellationToken, ("$id", sandboxId));
        if (name is null)
        {
            return false;
        }

        var facts = SandboxConfigFacts.Read(configJson, name);
        await ExecuteAsync(connection, transaction,
            "UPDATE sandbox SET config = $config, ephemeral = $ephemeral, updated_at = $now WHERE id = $id",
            cancellationToken, ("$config", configJson), ("$ephemeral", facts.Ephemeral), ("$now", Now()), ("$id", sandboxId));
        await ExecuteAsync(connection, transaction, "DELETE FROM sandbox_labels WHERE sandbox_id = $id",
            cancellationToken, ("$id", sandboxId));
        await WriteLabelsAsync(connection, transaction, sandboxId, facts.Labels, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Records (or with null clears) the config the running VM was started with (<c>sandbox.active_config</c>).</summary>
    /// <param name="sandboxId">Row id.</param>
    /// <param name="activeConfigJson">The config JSON in effect, or null.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>False when no such sandbox exists.</returns>
    public async Task<bool> SetSandboxActiveConfigAsync(long sandboxId, string? activeConfigJson, CancellationToken cancellationToken = default)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        var changed = await ExecuteAsync(connection, null,
            "UPDATE sandbox SET active_config = $active, updated_at = $now WHERE id = $id",
            cancellationToken, ("$active", activeConfigJson), ("$now", Now()), ("$id", sandboxId));
        return changed > 0;
    }

    /// <summary>
    /// Deletes the sandbox named <paramref name="name"/>; its runs and labels go with it (foreign-key cascade, as in msb).
    /// </summary>
    /// <param name="name">Sandbox name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>False when there was no such sandbox (deleting twice is harmless).</returns>
    public async Task<bool> DeleteSandboxAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await using var connection = await ConnectAsync(cancellationToken);
        var changed = await ExecuteAsync(connection, null, "DELETE FROM sandbox WHERE name = $name",
            cancellationToken, ("$name", name));
        return changed > 0;
    }

    /// <summary>
    /// msb's ephemeral self-clean: deletes the sandbox only while it is ephemeral and terminal (Stopped or Crashed).
    /// </summary>
    /// <param name="sandboxId">Row id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>True when this call removed the row.</returns>
    public async Task<bool> DeleteSandboxIfTerminalEphemeralAsync(long sandboxId, CancellationToken cancellationToken = default)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        var changed = await ExecuteAsync(connection, null,
            "DELETE FROM sandbox WHERE id = $id AND ephemeral = 1 AND status IN ('Stopped', 'Crashed')",
            cancellationToken, ("$id", sandboxId));
        return changed > 0;
    }

    private static bool ClearsActiveConfig(SandboxStatus status) =>
        status is SandboxStatus.Created or SandboxStatus.Stopped or SandboxStatus.Crashed;

    private static async Task WriteLabelsAsync(SqliteConnection connection, SqliteTransaction transaction, long sandboxId,
        IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        foreach (var (key, value) in labels)
        {
            await ExecuteAsync(connection, transaction,
                "INSERT INTO sandbox_labels (sandbox_id, key, value) VALUES ($id, $key, $value)",
                cancellationToken, ("$id", sandboxId), ("$key", key), ("$value", value));
        }
    }

    private static async Task<List<SandboxRecord>> ReadSandboxesAsync(SqliteConnection connection, SqliteTransaction? transaction,
        string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        var rows = await QueryAsync(connection, transaction, sql, reader => new SandboxRecord(
            Id: reader.GetInt64(reader.GetOrdinal("id")),
            Name: reader.GetString(reader.GetOrdinal("name")),
            ConfigJson: reader.GetString(reader.GetOrdinal("config")),
            ActiveConfigJson: TextOrNull(reader, "active_config"),
            Status: StateText.ParseSandboxStatus(reader.GetString(reader.GetOrdinal("status"))),
            Ephemeral: reader.GetBoolean(reader.GetOrdinal("ephemeral")),
            CreatedAt: TimeOrNull(reader, "created_at"),
            UpdatedAt: TimeOrNull(reader, "updated_at"),
            NetworkSlot: Int32OrNull(reader, "network_slot"),
            Labels: new Dictionary<string, string>()), cancellationToken, parameters);
        if (rows.Count == 0)
        {
            return rows;
        }

        var labels = await QueryAsync(connection, transaction,
            "SELECT sandbox_id, key, value FROM sandbox_labels ORDER BY sandbox_id, key",
            reader => (SandboxId: reader.GetInt64(0), Key: reader.GetString(1), Value: reader.GetString(2)), cancellationToken);
        var bySandbox = labels.GroupBy(l => l.SandboxId)
            .ToDictionary(g => g.Key, g => (IReadOnlyDictionary<string, string>)g.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal));

        return rows.Select(row => bySandbox.TryGetValue(row.Id, out var own) ? row with { Labels = own } : row).ToList();
    }

    private static void RequireName(string name, string parameter)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("name must not be empty", parameter);
        }
    }
}
