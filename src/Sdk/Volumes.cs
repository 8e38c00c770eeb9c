using Microsandbox.Spawn;
using Microsandbox.State;

namespace Microsandbox;

/// <summary>
/// Named volumes by name (as <c>msb volume</c> keeps them): a directory under <c>volumes/</c> in the state directory
/// and a row in the state database, mounted into sandboxes with <see cref="MountBuilder.Named"/>.
/// </summary>
public static class Volumes
{
    /// <summary>Creates a directory volume; an existing volume of that name is returned as it is.</summary>
    /// <exception cref="InvalidConfigException">The name breaks the volume-name rule.</exception>
    public static async Task<VolumeInfo> CreateAsync(string name, IReadOnlyDictionary<string, string>? labels = null, SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        NamedVolumes.ValidateName(name);
        options ??= SandboxOptions.Default;
        await using var store = await StateStore.OpenAsync(options.Home.Root, cancellationToken).ConfigureAwait(false);
        if (await store.GetVolumeAsync(name, cancellationToken).ConfigureAwait(false) is { } existing) return Info(options, existing);
        var record = await store.CreateVolumeAsync(new NewVolume(name, Labels: labels is { Count: > 0 } ? labels : null), cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(NamedVolumes.VolumePath(options.Home, name));
        return Info(options, record);
    }

    /// <summary>Every named volume.</summary>
    public static async Task<IReadOnlyList<VolumeInfo>> ListAsync(SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= SandboxOptions.Default;
        await using var store = await StateStore.OpenAsync(options.Home.Root, cancellationToken).ConfigureAwait(false);
        return [.. (await store.ListVolumesAsync(cancellationToken).ConfigureAwait(false)).Select(v => Info(options, v))];
    }

    /// <summary>A volume by name, or null.</summary>
    public static async Task<VolumeInfo?> InspectAsync(string name, SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        options ??= SandboxOptions.Default;
        await using var store = await StateStore.OpenAsync(options.Home.Root, cancellationToken).ConfigureAwait(false);
        return await store.GetVolumeAsync(name, cancellationToken).ConfigureAwait(false) is { } v ? Info(options, v) : null;
    }

    /// <summary>Removes a volume and its files; false when there was none.</summary>
    public static async Task<bool> RemoveAsync(string name, SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        NamedVolumes.ValidateName(name);
        options ??= SandboxOptions.Default;
        await using var store = await StateStore.OpenAsync(options.Home.Root, cancellationToken).ConfigureAwait(false);
        if (!await store.DeleteVolumeAsync(name, cancellationToken).ConfigureAwait(false)) return false;
        var path = NamedVolumes.VolumePath(options.Home, name);
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        else if (File.Exists(path)) File.Delete(path);
        return true;
    }

    private static VolumeInfo Info(SandboxOptions options, VolumeRecord v) =>
        new(v.Name, NamedVolumes.VolumePath(options.Home, v.Name), v.Kind == VolumeKind.Disk, v.Labels, v.CreatedAt);
}

/// <summary>A named volume (<see cref="Volumes"/>).</summary>
/// <param name="Name">Its name.</param>
/// <param name="Path">Its directory (or disk image file) on the host.</param>
/// <param name="IsDisk">Whether it is an ext4 disk image rather than a directory.</param>
/// <param name="Labels">Its labels.</param>
/// <param name="CreatedAt">When it was created (UTC), if recorded.</param>
public sealed record VolumeInfo(string Name, string Path, bool IsDisk, IReadOnlyDictionary<string, string> Labels, DateTime? CreatedAt);
