using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace Microsandbox.Build.Targets;

/// <summary>
/// Puts the pinned upstream runtime npm installed (<c>bin/msb</c>, <c>lib/libkrunfw.so.*</c>) into the shape the
/// Microsandbox.Krun.linux-x64 package embeds: <c>krun.tar.gz</c> (both files side by side, fixed owner and mtime)
/// and a <c>manifest.json</c> with their sha256s, in <c>NATIVE_OUT/krun</c>. Rewritten only when msb changed.
/// </summary>
internal static class KrunArchive
{
    public static void Write(string platformPackageDirectory, string outDirectory, string version)
    {
        var msb = Path.Combine(platformPackageDirectory, "bin", "msb");
        var library = Directory.Exists(Path.Combine(platformPackageDirectory, "lib"))
            ? Directory.GetFiles(Path.Combine(platformPackageDirectory, "lib"), "libkrunfw.so.*").Order(StringComparer.Ordinal).LastOrDefault()
            : null;
        if (!File.Exists(msb) || library is null)
        {
            BuildLog.Warn($"{platformPackageDirectory} has no bin/msb or lib/libkrunfw.so.*: the Microsandbox.Krun package will carry nothing");
            return;
        }

        Directory.CreateDirectory(outDirectory);
        var files = new[] { ("msb", msb, "msb"), ("libkrunfw", library, Path.GetFileName(library)) };
        var hashes = files.ToDictionary(f => f.Item1, f => Sha256(f.Item2));
        var manifestPath = Path.Combine(outDirectory, "manifest.json");
        var manifest = JsonSerializer.Serialize(new
        {
            runtime_version = version,
            files = files.ToDictionary(f => f.Item1, f => new { path = f.Item3, sha256 = hashes[f.Item1] }),
        }, new JsonSerializerOptions { WriteIndented = true });
        var archivePath = Path.Combine(outDirectory, "krun.tar.gz");
        if (File.Exists(archivePath) && File.Exists(manifestPath) && File.ReadAllText(manifestPath) == manifest)
        {
            BuildLog.Info($"{archivePath} is up to date");
            return;
        }

        File.WriteAllText(manifestPath, manifest);
        using (var output = File.Create(archivePath + ".tmp"))
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: false))
        {
            Add(tar, manifestPath, "manifest.json", executable: false);
            foreach (var (_, source, name) in files) Add(tar, source, name, executable: name == "msb");
        }

        File.Move(archivePath + ".tmp", archivePath, overwrite: true);
        BuildLog.Info($"{archivePath}: msb and {Path.GetFileName(library)} for the Microsandbox.Krun.linux-x64 package");
    }

    private static void Add(TarWriter tar, string source, string name, bool executable)
    {
        using var data = File.OpenRead(source);
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = data,
            ModificationTime = DateTimeOffset.UnixEpoch,
            Mode = executable
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
        });
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
