using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Microsandbox.State;

// Rows of `volume`.
public sealed partial class StateStore
{
    private const string VolumeColumns =
        "id, name, kind, quota_mib, size_bytes, capacity_bytes, disk_format, disk_fstype, labels, created_at, updated_at";

    /// <summary>
    /// Records a named volume as msb's <c>volume create</c> does: kind <c>dir</c> or <c>disk</c> (disks are
    /// <c>raw</c> images formatted <c>ext4</c>), labels as a JSON object or null when there are none,
    /// <c>created_at</c> = <c>updated_at</c> = now. Only the row: the directory or disk file is the caller's.
    /// </summary>
    /// <param name="volume">What to record.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="MicrosandboxException">A volume with this name already exists.</exception>
    public async Task<VolumeRecord> CreateVolumeAsync(NewVolume volume, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(volume);
        RequireName(volume.Name, nameof(volume));
        if (volume.Kind == VolumeKind.Disk && volume.CapacityBytes is not > 0)
        {
            throw new ArgumentException("CapacityBytes must be positive for a disk volume", nameof(volume));
        }

        var isDisk = volume.Kind == VolumeKind.Disk;
        var labels = volume.Labels is { Count: > 0 }
            ? JsonSerializer.Serialize(new SortedDictionary<string, string>(volume.Labels.ToDictionary(), StringComparer.Ordinal))
            : null;
        var now = Now();

        await using var connection = await ConnectAsync(cancellationToken);
        long id;
        try
        {
            id = (long)(await ScalarAsync(connection, null,
                "INSERT INTO volume (name, kind, quota_mib, size_bytes, capacity_bytes, disk_format, disk_fstype, labels, created_at, updated_at) " +
                "VALUES ($name, $kind, $quota, NULL, $capacity, $format, $fstype, $labels, $now, $now) RETURNING id",
                cancellationToken,
                ("$name", volume.Name), ("$kind", KindText(volume.Kind)), ("$quota", volume.QuotaMib),
                ("$capacity", volume.CapacityBytes), ("$format", isDisk ? "raw" : null), ("$fstype", isDisk ? "ext4" : null),
                ("$labels", labels), ("$now", now)))!;
        }
        catch (SqliteException exception) when (IsUniqueViolation(exception))
        {
            throw new MicrosandboxException($"a volume named '{volume.Name}' already exists in {DatabasePath}", exception);
        }

        return (await ReadVolumesAsync(connection, $"SELECT {VolumeColumns} FROM volume WHERE id = $id", cancellationToken, ("$id", id))).Single();
    }

    /// <summary>The volume named <paramref name="name"/>, or null.</summary>
    /// <param name="name">Volume name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<VolumeRecord?> GetVolumeAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await using var connection = await ConnectAsync(cancellationToken);
        return (await ReadVolumesAsync(connection, $"SELECT {VolumeColumns} FROM volume WHERE name = $name",
            cancellationToken, ("$name", name))).SingleOrDefault();
    }

    /// <summary>All volumes, ordered by name.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<IReadOnlyList<VolumeRecord>> ListVolumesAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        return await ReadVolumesAsync(connection, $"SELECT {VolumeColumns} FROM volume ORDER BY name", cancellationToken);
    }

    /// <summary>Deletes the volume row named <paramref name="name"/> (its attachments go with it).</summary>
    /// <param name="name">Volume name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>False when there was no such volume.</returns>
    public async Task<bool> DeleteVolumeAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await using var connection = await ConnectAsync(cancellationToken);
        return await ExecuteAsync(connection, null, "DELETE FROM volume WHERE name = $name", cancellationToken, ("$name", name)) > 0;
    }

    private static string KindText(VolumeKind kind) => kind == VolumeKind.Disk ? "disk" : "dir";

    private static VolumeKind ParseKind(string text) => text switch
    {
        "dir" => VolumeKind.Dir,
        "disk" => VolumeKind.Disk,
        _ => throw new MicrosandboxException($"volume.kind holds '{text}', which this toolkit does not know"),
    };

    private static IReadOnlyDictionary<string, string> ParseVolumeLabels(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return new Dictionary<string, string>();
        }

        return JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? new Dictionary<string, string>();
    }

    private static Task<List<VolumeRecord>> ReadVolumesAsync(SqliteConnection connection, string sql,
        CancellationToken cancellationToken, params (string Name, object? Value)[] parameters) =>
        QueryAsync(connection, null, sql, reader => new VolumeRecord(
            Id: reader.GetInt64(reader.GetOrdinal("id")),
            Name: reader.GetString(reader.GetOrdinal("name")),
            Kind: ParseKind(reader.GetString(reader.GetOrdinal("kind"))),
            QuotaMib: Int32OrNull(reader, "quota_mib"),
            SizeBytes: Int64OrNull(reader, "size_bytes"),
            CapacityBytes: Int64OrNull(reader, "capacity_bytes"),
            DiskFormat: TextOrNull(reader, "disk_format"),
            DiskFstype: TextOrNull(reader, "disk_fstype"),
            Labels: ParseVolumeLabels(TextOrNull(reader, "labels")),
            CreatedAt: TimeOrNull(reader, "created_at"),
            UpdatedAt: TimeOrNull(reader, "updated_at")), cancellationToken, parameters);
}
