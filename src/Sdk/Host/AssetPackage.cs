using System.Formats.Tar;
using System.IO.Compression;
using System.Reflection;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text.Json;
using Microsandbox.Engines;
using Microsandbox.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsandbox.Host;

/// <summary>
/// Binaries that travel inside a package's assembly as embedded resources — an <c>ARCHIVE.tar.gz</c> and the
/// <c>manifest.json</c> that lists every file's sha256 — and are unpacked once per content into
/// <c>~/.microsandbox/FOLDER/VERSION-HASH/</c>. The unpack happens under a file lock in a staging directory, every
/// file is checked against the manifest and the directory is renamed into place only when complete, so several
/// processes starting at once share one unpack and none ever sees a half-written kernel.
/// </summary>
internal sealed class AssetPackage
{
    /// <summary>
    /// The guest side of the QEMU engine (a dependency of Microsandbox): kernel, initramfs images with the guest agent
    /// and the built-in image, its root disk (also as <c>busybox.raw</c>).
    /// </summary>
    public static AssetPackage Guest { get; } = new(
        "Microsandbox.Guest.linux-x64", "qemu", "guest", "guest.tar.gz",
        ["kernel", "initrd", "initrd_busybox", "rootfs_ext4", "agent", "netfilter"], [("busybox.raw", "rootfs.ext4")]);

    /// <summary>Upstream's runtime for libkrun hosts, opt-in: <c>msb</c> and <c>libkrunfw</c> side by side.</summary>
    public static AssetPackage Krun { get; } = new(
        "Microsandbox.Krun.linux-x64", "krun", "runtime", "krun.tar.gz", ["msb", "libkrunfw"], []);

    private const string ManifestResource = "manifest.json";
    private const string UnpackedRecord = ".unpacked.json";

    private readonly string _engine;
    private readonly string _folder;
    private readonly string _archiveResource;
    private readonly string[] _requiredKeys;
    private readonly (string Name, string Target)[] _links;
    private readonly Lazy<Assembly?> _carrier;
    private readonly object _gate = new();
    private readonly HashSet<string> _unpacked = new(StringComparer.Ordinal);

    private AssetPackage(string assemblyName, string engine, string folder, string archiveResource, string[] requiredKeys, (string, string)[] links)
    {
        AssemblyName = assemblyName;
        _engine = engine;
        _folder = folder;
        _archiveResource = archiveResource;
        _requiredKeys = requiredKeys;
        _links = links;
        _carrier = new(LoadCarrier);
    }

    /// <summary>The package (and assembly) that carries the files.</summary>
    public string AssemblyName { get; }

    /// <summary>Whether the package's assembly is present beside the SDK.</summary>
    public bool IsAvailable => _carrier.Value is not null;

    /// <summary>
    /// Where the packaged assets are (or will be) unpacked for <paramref name="installRoot"/>, or null without the
    /// package. Cheap: reads only the embedded manifest.
    /// </summary>
    public string? Directory(string installRoot)
    {
        if (_carrier.Value is not { } assembly) return null;
        return Path.Combine(installRoot, _folder, CacheKey(assembly));
    }

    /// <summary>
    /// The unpacked asset directory, unpacking it first when needed (once per process and content); null without
    /// the package.
    /// </summary>
    /// <exception cref="EngineUnavailableException">The package is damaged or the cache cannot be written.</exception>
    public string? EnsureUnpacked(string installRoot, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        if (_carrier.Value is not { } assembly) return null;
        var target = Path.Combine(installRoot, _folder, CacheKey(assembly));
        lock (_gate)
        {
            if (_unpacked.Contains(target)) return target;
        }
        if (!IsComplete(target))
        {
            try
            {
                UnpackLocked(assembly, target, logger ?? NullLogger.Instance, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or JsonException
                                           or InvalidOperationException or (MicrosandboxException and not EngineUnavailableException))
            {
                throw new EngineUnavailableException(_engine, $"the files of package {AssemblyName} could not be unpacked into {target}: {e.Message}");
            }
        }
        lock (_gate) _unpacked.Add(target);
        return target;
    }

    private Assembly? LoadCarrier()
    {
        var carrier = LoadCarrierAssembly();
        // An assembly built without assets (only the repository's build program has one) carries nothing.
        return carrier?.GetManifestResourceInfo(ManifestResource) is null ? null : carrier;
    }

    private Assembly? LoadCarrierAssembly()
    {
        var sdk = typeof(AssetPackage).Assembly;
        var context = AssemblyLoadContext.GetLoadContext(sdk) ?? AssemblyLoadContext.Default;
        try
        {
            return context.LoadFromAssemblyName(new AssemblyName(AssemblyName));
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            // Not in the dependency graph (e.g. an app that trimmed it): look beside the SDK itself.
            var beside = Path.Combine(Path.GetDirectoryName(sdk.Location) ?? AppContext.BaseDirectory, AssemblyName + ".dll");
            return File.Exists(beside) ? context.LoadFromAssemblyPath(beside) : null;
        }
    }

    // VERSION-HASH: the package version for people, the manifest's hash (it lists every file's sha256) for machines.
    private string CacheKey(Assembly assembly)
    {
        var manifest = ReadResource(assembly, ManifestResource);
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0) version = version[..plus];
        return $"{version}-{Convert.ToHexStringLower(SHA256.HashData(manifest))[..16]}";
    }

    private byte[] ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new EngineUnavailableException(_engine, $"package {AssemblyName} is damaged: resource {name} is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Complete when the unpack record exists and every file it lists still has its unpacked length.</summary>
    internal static bool IsComplete(string directory)
    {
        var record = Path.Combine(directory, UnpackedRecord);
        if (!File.Exists(record)) return false;
        try
        {
            var lengths = JsonSerializer.Deserialize(File.ReadAllBytes(record), AssetPackageJson.Default.DictionaryStringInt64);
            if (lengths is null || lengths.Count == 0) return false;
            foreach (var (file, length) in lengths)
            {
                var info = new FileInfo(Path.Combine(directory, file));
                if (!info.Exists || info.Length != length) return false;
            }
            return true;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private void UnpackLocked(Assembly assembly, string target, ILogger logger, CancellationToken cancellationToken)
    {
        var parent = Path.GetDirectoryName(target)!;
        System.IO.Directory.CreateDirectory(parent);
        using var gate = AcquireLock(target + ".lock", cancellationToken);
        if (IsComplete(target)) return; // another process finished it while we waited

        // A process killed mid-unpack leaves its staging directory: nobody else can be using one while we hold the lock.
        foreach (var stale in System.IO.Directory.EnumerateDirectories(parent, ".staging-*"))
        {
            try { System.IO.Directory.Delete(stale, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        var started = System.Diagnostics.Stopwatch.StartNew();
        logger.LogInformation("unpacking the files of {Package} into {Directory}", AssemblyName, target);
        var staging = System.IO.Directory.CreateDirectory(Path.Combine(parent, $".staging-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}")).FullName;
        try
        {
            var lengths = Extract(assembly, staging, cancellationToken);
            // Checked against the manifest the cache key was made from, not the copy inside the archive.
            Verify(staging, ReadResource(assembly, ManifestResource), lengths.Keys, cancellationToken);
            foreach (var (name, linkTarget) in _links) File.CreateSymbolicLink(Path.Combine(staging, name), linkTarget);
            File.WriteAllBytes(Path.Combine(staging, UnpackedRecord), JsonSerializer.SerializeToUtf8Bytes(lengths, AssetPackageJson.Default.DictionaryStringInt64));
            if (System.IO.Directory.Exists(target)) System.IO.Directory.Delete(target, recursive: true); // damaged earlier unpack
            System.IO.Directory.Move(staging, target);
            logger.LogInformation("{Package} unpacked and verified in {Elapsed} ms", AssemblyName, started.ElapsedMilliseconds);
        }
        finally
        {
            if (System.IO.Directory.Exists(staging)) System.IO.Directory.Delete(staging, recursive: true);
        }
    }

    private static FileLock AcquireLock(string path, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (FileLock.TryAcquire(path) is { } held) return held;
            cancellationToken.WaitHandle.WaitOne(50);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private Dictionary<string, long> Extract(Assembly assembly, string staging, CancellationToken cancellationToken)
    {
        var lengths = new Dictionary<string, long>(StringComparer.Ordinal);
        using var resource = assembly.GetManifestResourceStream(_archiveResource)
            ?? throw new InvalidDataException($"resource {_archiveResource} is missing");
        using var gzip = new GZipStream(resource, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var buffer = new byte[1 << 16];
        while (reader.GetNextEntry() is { } entry)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = entry.Name.TrimStart('.', '/');
            // Our own archive is flat: anything else means it is not the archive the build made.
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || name.Length == 0 || name.Contains('/', StringComparison.Ordinal))
                throw new InvalidDataException($"unexpected entry '{entry.Name}' ({entry.EntryType}) in {_archiveResource}");
            var path = Path.Combine(staging, name);
            using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                if (entry.DataStream is { } data) CopySparse(data, output, buffer);
                output.SetLength(entry.Length);
            }
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (entry.Mode & UnixFileMode.UserExecute) != 0
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            lengths[name] = entry.Length;
        }
        return lengths;
    }

    // Runs of zeros become holes: the 256 MiB root disk holds a few MiB of data.
    private static void CopySparse(Stream source, FileStream destination, byte[] buffer)
    {
        int read;
        while ((read = source.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false)) > 0)
        {
            var chunk = buffer.AsSpan(0, read);
            if (chunk.IndexOfAnyExcept((byte)0) < 0) destination.Seek(read, SeekOrigin.Current);
            else destination.Write(chunk);
        }
    }

    private void Verify(string staging, byte[] manifestBytes, IEnumerable<string> extracted, CancellationToken cancellationToken)
    {
        var present = extracted.ToHashSet(StringComparer.Ordinal);
        using var manifest = JsonDocument.Parse(manifestBytes);
        if (!manifest.RootElement.TryGetProperty("files", out var files) || files.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException("manifest.json lists no files");
        foreach (var key in _requiredKeys)
            if (!files.TryGetProperty(key, out _)) throw new InvalidDataException($"manifest.json does not list {key}");
        foreach (var file in files.EnumerateObject())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (file.Value.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"manifest.json entry {file.Name} is not an object");
            var path = file.Value.TryGetProperty("path", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            var sha = file.Value.TryGetProperty("sha256", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            if (path is null || sha is null) continue;
            if (!present.Contains(path))
            {
                if (_requiredKeys.Contains(file.Name)) throw new InvalidDataException($"{path} ({file.Name}) is missing from {_archiveResource}");
                continue; // built, but not shipped (test tools)
            }
            using var stream = File.OpenRead(Path.Combine(staging, path));
            var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (!string.Equals(actual, sha, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{path} does not match manifest.json (sha256 {actual}, expected {sha})");
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, long>))]
internal sealed partial class AssetPackageJson : System.Text.Json.Serialization.JsonSerializerContext;
