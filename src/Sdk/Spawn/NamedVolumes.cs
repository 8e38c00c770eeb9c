using System.Diagnostics;
using System.Globalization;
using Microsandbox.Host;
using Microsandbox.Spec;
using Microsandbox.State;
using SpecVolumeKind = Microsandbox.Spec.VolumeKind;
using StateVolumeKind = Microsandbox.State.VolumeKind;

namespace Microsandbox.Spawn;

/// <summary>
/// Named volumes at sandbox-create time (upstream <c>ensure_named_volumes</c> / <c>resolve_named_volumes</c>): take a
/// per-name lock, create the volumes a mount asks to create (row first, then the directory or ext4 disk, undoing the
/// row when the disk cannot be made), roll every volume this create made back when a later one fails, check that an
/// existing volume matches what was asked, and resolve each mount to its host path.
/// </summary>
public static class NamedVolumes
{
    /// <summary><c>volumes/NAME</c> under the state directory.</summary>
    public static string VolumePath(MicrosandboxHome home, string name)
    {
        ArgumentNullException.ThrowIfNull(home);
        return Path.Combine(home.Root, "volumes", name);
    }

    /// <summary>Checks a volume name: an alphanumeric first character, then alphanumerics, '.', '-' or '_'.</summary>
    public static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0) throw new InvalidConfigException("volume name must not be empty");
        bool valid = char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
        if (!valid)
            throw new InvalidConfigException(
                $"volume name must start with an alphanumeric character and contain only alphanumeric characters, dots, hyphens, and underscores: {name}");
    }

    /// <summary>Creates what the spec's named mounts ask to create; on failure nothing this call created remains.</summary>
    public static async Task<EnsuredNamedVolumes> EnsureAsync(StateStore store, MicrosandboxHome home, SandboxSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(spec);
        var locks = await LockNamesAsync(home, spec, cancellationToken).ConfigureAwait(false);
        var created = new List<CreatedNamedVolume>();
        try
        {
            foreach (var create in spec.Mounts.OfType<VolumeMount.Named>().Select(m => m.Create).OfType<NamedVolumeCreate>())
            {
                ValidateName(create.Name);
                var existing = await store.GetVolumeAsync(create.Name, cancellationToken).ConfigureAwait(false);
                if (existing is not null)
                {
                    switch (create.Mode)
                    {
                        case NamedVolumeMode.Create:
                            throw new MicrosandboxException($"volume already exists: {create.Name}");
                        case NamedVolumeMode.EnsureExists:
                            ValidateExisting(create, existing);
                            continue;
                        default:
                            continue;
                    }
                }
                if (create.Mode == NamedVolumeMode.Existing) throw new MicrosandboxException($"volume not found: {create.Name}");
                ValidateConfig(create);

                var record = await store.CreateVolumeAsync(new NewVolume(
                    create.Name,
                    create.Kind == SpecVolumeKind.Disk ? StateVolumeKind.Disk : StateVolumeKind.Dir,
                    create.QuotaMib is { } q ? checked((int)q) : null,
                    create.CapacityMib is { } c ? (long)c * 1024 * 1024 : null,
                    create.Labels.Count == 0 ? null : create.Labels.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal)), cancellationToken).ConfigureAwait(false);
                var path = VolumePath(home, create.Name);
                try
                {
                    await MaterializeAsync(create, path, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await store.DeleteVolumeAsync(create.Name, CancellationToken.None).ConfigureAwait(false);
                    throw;
                }
                created.Add(new CreatedNamedVolume(create.Name, path));
            }
            return new EnsuredNamedVolumes(created, locks);
        }
        catch
        {
            await RollbackAsync(store, created).ConfigureAwait(false);
            foreach (var l in locks) l.Dispose();
            throw;
        }
    }

    /// <summary>Removes the volumes (rows and files) one create made, e.g. because the sandbox then failed to start.</summary>
    public static async Task RollbackAsync(StateStore store, IEnumerable<CreatedNamedVolume> created)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(created);
        foreach (var volume in created)
        {
            try
            {
                if (Directory.Exists(volume.Path)) Directory.Delete(volume.Path, recursive: true);
            }
            catch (IOException) { }
            await store.DeleteVolumeAsync(volume.Name, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Rejects an existing volume that differs from what an ensure-exists mount asked for (extra labels are fine).</summary>
    public static void ValidateExisting(NamedVolumeCreate requested, VolumeRecord existing)
    {
        ArgumentNullException.ThrowIfNull(requested);
        ArgumentNullException.ThrowIfNull(existing);
        var actual = existing.Kind == StateVolumeKind.Disk ? SpecVolumeKind.Disk : SpecVolumeKind.Directory;
        if (actual != requested.Kind)
            throw new InvalidConfigException(
                $"named volume \"{requested.Name}\" already exists as {actual.AsStr()}, but this sandbox requested {requested.Kind.AsStr()}");
        if (requested.QuotaMib is { } quota && existing.QuotaMib != (int)quota)
            throw new InvalidConfigException(
                $"named volume \"{requested.Name}\" already exists with quota {Show(existing.QuotaMib)} MiB, but this sandbox requested {quota} MiB");
        if (requested.CapacityMib is { } capacity && existing.CapacityBytes != (long)capacity * 1024 * 1024)
            throw new InvalidConfigException(
                $"named volume \"{requested.Name}\" already exists with capacity {Show(existing.CapacityBytes)} bytes, but this sandbox requested {(long)capacity * 1024 * 1024} bytes");
        foreach (var (key, value) in requested.Labels)
        {
            if (!existing.Labels.TryGetValue(key, out var have))
                throw new InvalidConfigException($"named volume \"{requested.Name}\" already exists without requested label \"{key}\"");
            if (have != value)
                throw new InvalidConfigException(
                    $"named volume \"{requested.Name}\" already exists with label \"{key}\"=\"{have}\", but this sandbox requested \"{value}\"");
        }
    }

    /// <summary>Maps each named mount's volume to its host path, reading kind and disk metadata from the store.</summary>
    public static async Task<IReadOnlyDictionary<string, ResolvedNamedVolume>> ResolveAsync(StateStore store, MicrosandboxHome home, SandboxSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(spec);
        var resolved = new Dictionary<string, ResolvedNamedVolume>(StringComparer.Ordinal);
        foreach (var mount in spec.Mounts.OfType<VolumeMount.Named>())
        {
            if (resolved.TryGetValue(mount.Name, out var known))
            {
                if (known.Kind == SpecVolumeKind.Disk) ValidateDiskMountOptions(mount);
                continue;
            }
            var record = await store.GetVolumeAsync(mount.Name, cancellationToken).ConfigureAwait(false)
                ?? throw new MicrosandboxException($"volume not found: {mount.Name}");
            var path = VolumePath(home, mount.Name);
            if (record.Kind == StateVolumeKind.Disk)
            {
                ValidateDiskMountOptions(mount);
                if (!DiskImageFormatExtensions.TryParse(record.DiskFormat ?? "raw", out var format))
                    throw new InvalidConfigException($"disk named volume \"{mount.Name}\" has invalid disk format: {record.DiskFormat}");
                resolved[mount.Name] = new ResolvedNamedVolume(SpecVolumeKind.Disk, Path.Combine(path, "disk.raw"), format, record.DiskFstype);
            }
            else
            {
                resolved[mount.Name] = new ResolvedNamedVolume(SpecVolumeKind.Directory, path, QuotaMib: record.QuotaMib is { } q ? (uint)Math.Max(0, q) : null);
            }
        }
        return resolved;
    }

    private static void ValidateDiskMountOptions(VolumeMount.Named mount)
    {
        // A block device has no host-side stat or permission mapping to configure.
        if (mount.StatVirtualization != StatVirtualization.Strict || mount.HostPermissions != HostPermissions.Private)
            throw new InvalidConfigException(
                $"named volume \"{mount.Name}\" is a disk volume; stat-virt and host-perms apply only to directory volumes");
    }

    private static void ValidateConfig(NamedVolumeCreate create)
    {
        if (create.Kind == SpecVolumeKind.Directory && create.CapacityMib is not null)
            throw new InvalidConfigException("directory named volumes do not support .size(...) / --size");
        if (create.Kind == SpecVolumeKind.Disk && create.CapacityMib is null)
            throw new InvalidConfigException("disk named volumes require .size(...) / --size");
        if (create.Kind == SpecVolumeKind.Disk && create.QuotaMib is not null)
            throw new InvalidConfigException("disk named volumes do not support .quota(...)");
    }

    private static async Task MaterializeAsync(NamedVolumeCreate create, string path, CancellationToken cancellationToken)
    {
        var parent = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(parent);
        if (Path.Exists(path)) throw new MicrosandboxException($"volume already exists: {create.Name}");
        // Build under a temporary name and rename, so a half-made volume never appears under the real name.
        var temp = Path.Combine(parent, $".{create.Name}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            if (create.Kind == SpecVolumeKind.Disk)
                await FormatExt4Async(Path.Combine(temp, "disk.raw"), create.CapacityMib!.Value, cancellationToken).ConfigureAwait(false);
            Directory.Move(temp, path);
        }
        catch
        {
            Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    private static async Task FormatExt4Async(string file, uint sizeMib, CancellationToken cancellationToken)
    {
        await using (var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write))
            stream.SetLength((long)sizeMib * 1024 * 1024);
        var mkfs = new[] { "/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4" }.FirstOrDefault(File.Exists)
            ?? throw new MicrosandboxException("disk named volumes need mkfs.ext4 (Debian package e2fsprogs)");
        var psi = new ProcessStartInfo(mkfs) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-q", "-F", "-E", "root_owner=0:0", file }) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
            throw new MicrosandboxException($"mkfs.ext4 {file} failed (exit code {process.ExitCode}): {(await stderr.ConfigureAwait(false)).Trim()}");
    }

    private static async Task<List<FileLock>> LockNamesAsync(MicrosandboxHome home, SandboxSpec spec, CancellationToken cancellationToken)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var mount in spec.Mounts.OfType<VolumeMount.Named>())
        {
            ValidateName(mount.Name);
            names.Add(mount.Name);
        }
        var locks = new List<FileLock>();
        var dir = Path.Combine(home.Root, "volumes", ".locks");
        try
        {
            if (names.Count > 0) Directory.CreateDirectory(dir);
            // Sorted order: two creates naming the same volumes cannot deadlock.
            foreach (var name in names) locks.Add(await FileLock.AcquireAsync(Path.Combine(dir, name + ".lock"), cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            foreach (var l in locks) l.Dispose();
            throw;
        }
        return locks;
    }

    private static string Show<T>(T? value) where T : struct =>
        value is { } v ? "Some(" + Convert.ToString(v, CultureInfo.InvariantCulture) + ")" : "None";
}

/// <summary>A volume one sandbox create made (so a failed create can remove it again).</summary>
/// <param name="Name">Volume name.</param>
/// <param name="Path">Its directory.</param>
public sealed record CreatedNamedVolume(string Name, string Path);

/// <summary>The outcome of <see cref="NamedVolumes.EnsureAsync"/>: what was created, and the per-name locks held until disposed.</summary>
public sealed class EnsuredNamedVolumes : IDisposable
{
    private readonly List<FileLock> _locks;

    internal EnsuredNamedVolumes(IReadOnlyList<CreatedNamedVolume> created, List<FileLock> locks)
    {
        Created = created;
        _locks = locks;
    }

    /// <summary>Volumes this create made.</summary>
    public IReadOnlyList<CreatedNamedVolume> Created { get; }

    /// <summary>True when nothing was created.</summary>
    public bool IsEmpty => Created.Count == 0;

    /// <summary>Releases the per-name locks.</summary>
    public void Dispose()
    {
        foreach (var l in _locks) l.Dispose();
        _locks.Clear();
    }
}
