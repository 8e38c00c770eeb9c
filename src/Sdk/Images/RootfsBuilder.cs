using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsandbox.Images;

/// <summary>
/// Turns a cached image into a bootable root disk: layers applied in order into a scratch tree
/// (<see cref="LayerApplier"/>), then <c>mkfs.ext4 -d</c> into a sparse raw image cached per manifest digest and
/// size at <c>cache/oci/rootfs/HEX-SIZEm.ext4</c>. The file is shared read-only: engines boot it copy-on-write.
/// </summary>
public sealed class RootfsBuilder
{
    /// <summary>Directories the guest agent mounts onto or expects, created when an image lacks them.</summary>
    private static readonly string[] GuestDirectories = ["proc", "sys", "dev", "tmp", "run", "etc"];

    private readonly ImageCache _cache;
    private readonly ILogger _logger;

    /// <summary>Creates a builder over a cache.</summary>
    public RootfsBuilder(ImageCache cache, ILogger? logger = null)
    {
        _cache = cache ?? throw new ArgumentNullException(nameof(cache));
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Returns the path of the image's ext4 root disk, building it once (other processes wait on a lock and reuse it).
    /// </summary>
    /// <param name="image">A completely cached image.</param>
    /// <param name="freeSpaceMib">Free space for guest writes on top of the content (the OCI upper size).</param>
    /// <param name="cancellationToken">Stops the build; nothing half-built is left in the cache.</param>
    public async Task<string> BuildAsync(CachedImage image, uint freeSpaceMib, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var hex = Digest.Hex(image.ManifestDigest);
        var existing = Find(hex, freeSpaceMib);
        if (existing is not null) return existing;

        using var held = await _cache.LockAsync("rootfs-" + hex, cancellationToken).ConfigureAwait(false);
        existing = Find(hex, freeSpaceMib);
        if (existing is not null) return existing;

        var scratch = Path.Combine(_cache.TempDirectory, $"rootfs-{hex[..12]}-{Guid.NewGuid():N}");
        var tree = Path.Combine(scratch, "tree");
        Directory.CreateDirectory(tree);
        try
        {
            var watch = Stopwatch.StartNew();
            _logger.LogInformation("image {Digest}: building its root disk from {Layers} layers (once per image and size)", image.ManifestDigest, image.Layers.Count);
            var applier = new LayerApplier(tree);
            foreach (var layer in image.Layers)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await using var stream = new FileStream(_cache.BlobPath(layer.Digest), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                try
                {
                    await applier.ApplyAsync(stream, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidDataException or NotSupportedException or IOException or UnauthorizedAccessException)
                {
                    throw new ImagePullException(image.References.FirstOrDefault() ?? image.ManifestDigest, $"cannot apply layer {layer.Digest}: {e.Message}", e);
                }
            }
            foreach (var dir in GuestDirectories)
            {
                var path = Path.Combine(tree, dir);
                if (!Directory.Exists(path) && new FileInfo(path).LinkTarget is null) Directory.CreateDirectory(path);
            }
            FileSystemCalls.SetMode(Path.Combine(tree, "tmp"), 0x3FF /* 01777 */);

            long contentBytes = TreeBytes(tree);
            // Room for the content, the requested free space, and ext4's own overhead (inode tables ~1/64 of the
            // disk, a journal of up to 64 MiB), so the guest really sees about freeSpaceMib free.
            long sizeMib = contentBytes / (1024 * 1024) * 5 / 4 + 64 + freeSpaceMib + freeSpaceMib / 32 + 64;
            var temp = Path.Combine(scratch, "root.ext4");
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                file.SetLength(sizeMib * 1024 * 1024);
            await RunAsync("mkfs.ext4", ["-q", "-F", "-L", "msb-root", "-m", "0", "-E", "root_owner=0:0,lazy_itable_init=1", "-d", tree, temp], cancellationToken).ConfigureAwait(false);
            var final = Path.Combine(_cache.RootfsDirectory, $"{hex}-{freeSpaceMib}m.ext4");
            File.Move(temp, final, overwrite: true);
            _logger.LogInformation("image {Digest}: root disk {Path} ({Content} MiB content, {Size} MiB disk) in {Seconds:0.0} s",
                image.ManifestDigest, final, contentBytes / (1024 * 1024), sizeMib, watch.Elapsed.TotalSeconds);
            return final;
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The already-built root disk of an image, or null.</summary>
    public string? Find(string manifestHex, uint freeSpaceMib)
    {
        var path = Path.Combine(_cache.RootfsDirectory, $"{manifestHex}-{freeSpaceMib}m.ext4");
        return File.Exists(path) ? path : null;
    }

    private static long TreeBytes(string root)
    {
        long total = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true };
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", options))
            total += (entry is FileInfo f && f.LinkTarget is null ? f.Length : 0) + 4096;
        return total;
    }

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new MicrosandboxException($"{program} is not installed (Debian package e2fsprogs): {e.Message}", e);
        }
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        await Task.WhenAll(stderr, stdout).ConfigureAwait(false);
        if (process.ExitCode != 0)
            throw new MicrosandboxException($"{program} failed with exit code {process.ExitCode}: {(await stderr).Trim()}");
    }
}
