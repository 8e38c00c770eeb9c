using System.Formats.Tar;
using System.IO.Compression;
using System.Reflection;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text.Json;
using Microsandbox.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsandbox.Engines.Qemu;

/// <summary>
/// The guest assets that travel in the <c>Microsandbox.Guest.linux-x64</c> package (a dependency of Microsandbox):
/// its assembly embeds <c>guest.tar.gz</c> and <c>manifest.json</c>, which are unpacked once per content into
/// <c>~/.microsandbox/guest/VERSION-HASH/</c>. The unpack happens under a file lock in a staging directory, every
/// file is checked against the manifest's sha256 and the directory is renamed into place only when complete, so
/// several processes starting at once share one unpack and none ever sees a half-written kernel.
/// </summary>
internal static class GuestPackage
{
    /// <summary>The package (and assembly) that carries the assets for this host.</summary>
    public const string AssemblyName = "Microsandbox.Guest.linux-x64";

    private const string ArchiveResource = "guest.tar.gz";
    private const string ManifestResource = "manifest.json";
    private const string UnpackedRecord = ".unpacked.json";

    // Files a guest cannot boot without, by their manifest keys.
    private static readonly string[] RequiredKeys = ["kernel", "initrd", "initrd_busybox", "rootfs_ext4", "agent"];

    private static readonly Lazy<Assembly?> Carrier = new(LoadCarrier);
    private static readonly object Gate = new();
    private static readonly Dictionary<string, string> Unpacked = new(StringComparer.Ordinal);

    /// <summary>Whether the guest package's assembly is present beside the SDK.</summary>
    public static bool IsAvailable => Carrier.Value is not null;

    /// <summary>
    /// Where the packaged assets are (or will be) unpacked for <paramref name="installRoot"/>, or null without the
    /// package. Cheap: reads only the embedded manifest.
    /// </summary>
    public static string? Directory(string installRoot)
    {
        if (Carrier.Value is not { } assembly) return null;
        return Path.Combine(installRoot, "guest", CacheKey(assembly));
    }

    /// <summary>
    /// The unpacked asset directory, unpacking it first when needed (once per process and content); null without
    /// the package.
    /// </summary>
    /// <exception cref="EngineUnavailableException">The package is damaged or the cache cannot be written.</exception>
    public static string? EnsureUnpacked(string installRoot, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        if (Carrier.Value is not { } assembly) return null;
        var target = Path.Combine(installRoot, "guest", CacheKey(assembly));
        lock (Gate)
        {
            if (Unpacked.ContainsKey(target)) return target;
        }
        if (!IsComplete(target))
        {
            try
            {
                UnpackLocked(assembly, target, logger ?? NullLogger.Instance, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or JsonException)
            {
                throw new EngineUnavailableException("qemu", $"the guest assets of package {AssemblyName} could not be unpacked into {target}: {e.Message}");
            }
        }
        lock (Gate) Unpacked[target] = target;
        return target;
    }

    private static Assembly? LoadCarrier()
    {
        var carrier = LoadCarrierAssembly();
        // An assembly built without assets (only the repository's build program has one) carries nothing.
        return carrier?.GetManifestResourceInfo(ManifestResource) is null ? null : carrier;
    }

    private static Assembly? LoadCarrierAssembly()
    {
        var sdk = typeof(GuestPackage).Assembly;
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
    private static string CacheKey(Assembly assembly)
    {
        var manifest = ReadResource(assembly, ManifestResource);
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0) version = version[..plus];
        return $"{version}-{Convert.ToHexStringLower(SHA256.HashData(manifest))[..16]}";
    }

    private static byte[] ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new EngineUnavailableException("qemu", $"package {AssemblyName} is damaged: resource {name} is missing");
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
            var lengths = JsonSerializer.Deserialize(File.ReadAllBytes(record), GuestPackageJson.Default.DictionaryStringInt64);
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

    private static void UnpackLocked(Assembly assembly, string target, ILogger logger, CancellationToken cancellationToken)
    {
        var parent = Path.GetDirectoryName(target)!;
        System.IO.Directory.CreateDirectory(parent);
        using var gate = AcquireLock(target + ".lock", cancellationToken);
        if (IsComplete(target)) return; // another process finished it while we waited

        var started = System.Diagnostics.Stopwatch.StartNew();
        logger.LogInformation("unpacking the guest assets of {Package} into {Directory}", AssemblyName, target);
        var staging = System.IO.Directory.CreateDirectory(Path.Combine(parent, $".staging-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}")).FullName;
        try
        {
            var lengths = Extract(assembly, staging, cancellationToken);
            Verify(staging, lengths.Keys, cancellationToken);
            // The built-in image's disk under the name BuiltinImages uses (image sources know raw disks by .raw).
            File.CreateSymbolicLink(Path.Combine(staging, "busybox.raw"), "rootfs.ext4");
            File.WriteAllBytes(Path.Combine(staging, UnpackedRecord), JsonSerializer.SerializeToUtf8Bytes(lengths, GuestPackageJson.Default.DictionaryStringInt64));
            if (System.IO.Directory.Exists(target)) System.IO.Directory.Delete(target, recursive: true); // damaged earlier unpack
            System.IO.Directory.Move(staging, target);
            logger.LogInformation("guest assets unpacked and verified in {Elapsed} ms", started.ElapsedMilliseconds);
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

    private static Dictionary<string, long> Extract(Assembly assembly, string staging, CancellationToken cancellationToken)
    {
        var lengths = new Dictionary<string, long>(StringComparer.Ordinal);
        using var resource = assembly.GetManifestResourceStream(ArchiveResource)
            ?? throw new InvalidDataException($"resource {ArchiveResource} is missing");
        using var gzip = new GZipStream(resource, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var buffer = new byte[1 << 16];
        while (reader.GetNextEntry() is { } entry)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = entry.Name.TrimStart('.', '/');
            // Our own archive is flat: anything else means it is not the archive the build made.
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || name.Length == 0 || name.Contains('/', StringComparison.Ordinal))
                throw new InvalidDataException($"unexpected entry '{entry.Name}' ({entry.EntryType}) in {ArchiveResource}");
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

    private static void Verify(string staging, IEnumerable<string> extracted, CancellationToken cancellationToken)
    {
        var present = extracted.ToHashSet(StringComparer.Ordinal);
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(staging, ManifestResource)));
        if (!manifest.RootElement.TryGetProperty("files", out var files) || files.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException("manifest.json lists no files");
        foreach (var file in files.EnumerateObject())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = file.Value.TryGetProperty("path", out var p) ? p.GetString() : null;
            var sha = file.Value.TryGetProperty("sha256", out var s) ? s.GetString() : null;
            if (path is null || sha is null) continue;
            if (!present.Contains(path))
            {
                if (RequiredKeys.Contains(file.Name)) throw new InvalidDataException($"{path} ({file.Name}) is missing from {ArchiveResource}");
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
internal sealed partial class GuestPackageJson : System.Text.Json.Serialization.JsonSerializerContext;
