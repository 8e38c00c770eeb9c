using System.Runtime.InteropServices;
using Microsandbox.Host;
using Microsandbox.Spec;

namespace Microsandbox.Spawn;

/// <summary>
/// Advisory <c>flock</c>s on every disk image a sandbox attaches (upstream <c>lock_disk_mounts</c>): shared for
/// read-only attachments, exclusive for writable ones, so two sandboxes never write one image and no image is
/// attached twice to one sandbox. The sandbox process inherits the descriptors and holds them for its life.
/// </summary>
public static class DiskLocks
{
    private const int LockSh = 1;

    /// <summary>Locks the spec's root disk, disk-image mounts and named disk volumes.</summary>
    /// <param name="spec">The resolved spec.</param>
    /// <param name="namedVolumes">Named volumes resolved by <see cref="NamedVolumes.ResolveAsync"/> (disk volumes are locked too).</param>
    /// <param name="rootReadonly">True when the engine never writes the root disk (read-only attach or copy-on-write).</param>
    public static DiskLockSet Acquire(SandboxSpec spec, IReadOnlyDictionary<string, ResolvedNamedVolume>? namedVolumes, bool rootReadonly)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var requests = new List<(string Path, bool Readonly, string Label, string? Volume)>();
        if (spec.Image is RootfsSource.DiskImage root)
            requests.Add((root.Path, rootReadonly, $"disk image rootfs {root.Path}", null));
        foreach (var mount in spec.Mounts)
        {
            switch (mount)
            {
                case VolumeMount.DiskImage disk:
                    requests.Add((disk.Host, disk.Options.Readonly, $"disk image {disk.Host}", null));
                    break;
                case VolumeMount.Named named when namedVolumes is not null && namedVolumes.TryGetValue(named.Name, out var v) && v.Kind == VolumeKind.Disk:
                    requests.Add((v.Path, named.Options.Readonly, $"named disk volume \"{named.Name}\"", named.Name));
                    break;
            }
        }

        var set = new DiskLockSet();
        try
        {
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (path, ro, label, volume) in requests)
            {
                var canonical = Canonical(path);
                if (!seen.TryAdd(canonical, label))
                    throw new InvalidConfigException(
                        $"disk images cannot be attached more than once per sandbox: {canonical} ({seen[canonical]}; {label})");
                set.Add(Lock(canonical, ro, volume), canonical);
            }
            return set;
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    private static string Canonical(string path)
    {
        if (!File.Exists(path)) throw new InvalidConfigException($"disk image host path does not exist: {path}");
        var full = Path.GetFullPath(path);
        return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
    }

    private static int Lock(string path, bool readOnly, string? volume)
    {
        int fd = Libc.open(path, (readOnly ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            throw new InvalidConfigException($"open disk image lock {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        if (Libc.flock(fd, (readOnly ? LockSh : Libc.LOCK_EX) | Libc.LOCK_NB) == 0) return fd;
        int errno = Marshal.GetLastPInvokeError();
        Libc.close(fd);
        if (errno == Libc.EWOULDBLOCK)
            throw new InvalidConfigException(volume is not null
                ? $"volume \"{volume}\" is already attached with an incompatible disk mode"
                : $"disk image \"{path}\" is already attached with an incompatible disk mode");
        throw new InvalidConfigException($"lock disk image {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }
}

/// <summary>Held disk-image locks; the spawner hands them to the sandbox process, then this process's copies can go.</summary>
public sealed class DiskLockSet : IDisposable
{
    private readonly List<int> _fds = [];
    private readonly List<string> _paths = [];

    internal DiskLockSet() { }

    /// <summary>The locked images (canonical paths), in attach order.</summary>
    public IReadOnlyList<string> Paths => _paths;

    /// <summary>The locked descriptors (close-on-exec here; the spawner maps them into the child).</summary>
    internal IReadOnlyList<int> Descriptors => _fds;

    internal void Add(int fd, string path)
    {
        _fds.Add(fd);
        _paths.Add(path);
    }

    /// <summary>Releases this process's holds (the sandbox process keeps its inherited copies).</summary>
    public void Dispose()
    {
        foreach (var fd in _fds) Libc.close(fd);
        _fds.Clear();
    }
}
