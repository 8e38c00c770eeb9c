using System.Text.Json;
using Microsandbox.Host;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Engines.Qemu;

/// <summary>
/// What the QEMU engine boots: the QEMU binary, the uncompressed kernel, our initramfs (guest agent as /init) and the
/// default busybox root disk, as assembled by <c>native/build.sh</c> and shipped in the <c>Microsandbox.Guest.linux-x64</c>
/// package.
/// </summary>
/// <param name="QemuBinary">qemu-system-x86_64.</param>
/// <param name="Kernel">The ELF vmlinux (PVH entry).</param>
/// <param name="Initrd">The initramfs.</param>
/// <param name="DefaultRootfs">The default image as an ext4 disk.</param>
/// <param name="Directory">Where the assets live.</param>
public sealed record QemuAssets(string QemuBinary, string Kernel, string Initrd, string DefaultRootfs, string Directory)
{
    /// <summary>
    /// <see cref="Initrd"/> with the built-in busybox tree appended as <c>/rootfs</c> (null when the build did not
    /// produce it). The engine boots the built-in image from it: no root disk, no filesystem module, no mount.
    /// </summary>
    public string? BusyboxInitrd { get; init; }

    /// <summary>
    /// The host-side network filter preloaded into QEMU (<c>libmsb-netfilter.so</c>, from native/netfilter), or null
    /// when the assets predate it: then no network policy can be enforced and networked sandboxes are refused.
    /// </summary>
    public string? NetFilter { get; init; }

    /// <summary>Environment variable naming an asset directory to use instead of the packaged assets.</summary>
    public const string AssetsEnvironmentVariable = "MSB_QEMU_ASSETS";

    /// <summary>Environment variable naming the QEMU binary (default: <c>qemu-system-x86_64</c> on PATH).</summary>
    public const string QemuEnvironmentVariable = "MSB_QEMU";

    /// <summary>The command that installs QEMU on Debian and Ubuntu, quoted in every message about a missing QEMU.</summary>
    public const string QemuInstallCommand = "sudo apt-get install -y --no-install-recommends qemu-system-x86";

    /// <summary>
    /// Where the assets are: <c>$MSB_QEMU_ASSETS</c> when set, else where the <c>Microsandbox.Guest.linux-x64</c>
    /// package's assets are unpacked (<c>~/.microsandbox/guest/VERSION-HASH</c>), else <c>~/.microsandbox/qemu</c>.
    /// Reading it unpacks nothing; <see cref="Locate(string?, string?)"/> does.
    /// </summary>
    public static string DefaultDirectory => GivenDirectory ?? AssetPackage.Guest.Directory(UserInstallRoot) ?? LegacyDirectory;

    /// <summary><see cref="DefaultDirectory"/>, with the packaged assets unpacked into it first when they are its source.</summary>
    internal static string UnpackedDefaultDirectory(ILogger? logger = null, CancellationToken cancellationToken = default) =>
        GivenDirectory ?? AssetPackage.Guest.EnsureUnpacked(UserInstallRoot, logger, cancellationToken) ?? LegacyDirectory;

    // $MSB_QEMU_ASSETS, when set; the package's unpack location otherwise; the old build location without the package.
    private static string? GivenDirectory => Environment.GetEnvironmentVariable(AssetsEnvironmentVariable) is { Length: > 0 } dir ? dir : null;

    private static string UserInstallRoot => Host.MicrosandboxHome.UserInstallRoot();

    private static string LegacyDirectory => Path.Combine(UserInstallRoot, "qemu");

    /// <summary>Finds the assets, or explains exactly what is missing and how to get it.</summary>
    /// <param name="directory">Asset directory (defaults to <see cref="DefaultDirectory"/>).</param>
    /// <param name="qemuBinary">QEMU binary (defaults to <c>$MSB_QEMU</c>, else PATH lookup of qemu-system-x86_64).</param>
    public static QemuAssets Locate(string? directory = null, string? qemuBinary = null) => Locate(directory, qemuBinary, null, CancellationToken.None);

    /// <summary>
    /// Finds the assets, unpacking the packaged ones on first use (logged), or explains exactly what is missing and
    /// how to get it.
    /// </summary>
    /// <param name="directory">Asset directory (defaults to <see cref="DefaultDirectory"/>).</param>
    /// <param name="qemuBinary">QEMU binary (defaults to <c>$MSB_QEMU</c>, else PATH lookup of qemu-system-x86_64).</param>
    /// <param name="logger">Receives the unpack's progress.</param>
    /// <param name="cancellationToken">Cancels waiting for another process's unpack.</param>
    public static QemuAssets Locate(string? directory, string? qemuBinary, ILogger? logger, CancellationToken cancellationToken) =>
        Locate(directory, qemuBinary, logger, cancellationToken, Environment.GetEnvironmentVariable(QemuEnvironmentVariable));

    internal static QemuAssets Locate(string? directory, string? qemuBinary, ILogger? logger, CancellationToken cancellationToken, string? qemuFromEnvironment)
    {
        var problems = new List<string>();
        var qemu = qemuBinary;
        if (qemu is null && qemuFromEnvironment is { Length: > 0 } fromEnvironment)
        {
            qemu = fromEnvironment;
            if (!File.Exists(qemu))
                problems.Add($"{QemuEnvironmentVariable} names {qemu}, which does not exist: install QEMU with `{QemuInstallCommand}` (Debian/Ubuntu package qemu-system-x86) and unset {QemuEnvironmentVariable}, or point it at qemu-system-x86_64");
        }
        else
        {
            qemu ??= FindOnPath("qemu-system-x86_64");
            if (qemu is null || !File.Exists(qemu))
                problems.Add($"QEMU (qemu-system-x86_64) is not installed: install it with `{QemuInstallCommand}` (Debian/Ubuntu package qemu-system-x86)");
        }

        var given = directory ?? GivenDirectory;
        var dir = given ?? UnpackedDefaultDirectory(logger, cancellationToken);
        var fix = given is not null
            ? $"{dir} was given as the asset directory (SandboxOptions.QemuAssetsDirectory or {AssetsEnvironmentVariable}): point it at a directory native/build.sh wrote, or leave it unset to boot from the {AssetPackage.Guest.AssemblyName} package"
            : AssetPackage.Guest.IsAvailable
                ? $"delete {dir} so that the {AssetPackage.Guest.AssemblyName} package unpacks it again"
                : $"reference the {AssetPackage.Guest.AssemblyName} package (Microsandbox depends on it; it is missing beside {typeof(QemuAssets).Assembly.GetName().Name}.dll)";

        string kernel = Path.Combine(dir, "vmlinux"), initrd = Path.Combine(dir, "initrd.cpio"), rootfs = Path.Combine(dir, "rootfs.ext4");
        string busyboxInitrd = Path.Combine(dir, "initrd-busybox.cpio"), netFilter = Path.Combine(dir, "libmsb-netfilter.so");
        var manifest = Path.Combine(dir, "manifest.json");
        if (File.Exists(manifest))
        {
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(File.ReadAllBytes(manifest));
            }
            catch (JsonException e)
            {
                throw new EngineUnavailableException("qemu", $"the asset manifest {manifest} is not valid JSON ({e.Message}): {fix}");
            }
            using var _ = doc;
            if (doc.RootElement.TryGetProperty("files", out var files))
            {
                kernel = Resolve(dir, files, "kernel", kernel);
                initrd = Resolve(dir, files, "initrd", initrd);
                rootfs = Resolve(dir, files, "rootfs_ext4", rootfs);
                busyboxInitrd = Resolve(dir, files, "initrd_busybox", busyboxInitrd);
                netFilter = Resolve(dir, files, "netfilter", netFilter);
            }
        }
        if (!File.Exists(kernel)) problems.Add($"guest kernel missing at {kernel}: {fix}");
        if (!File.Exists(initrd)) problems.Add($"guest initramfs missing at {initrd}: {fix}");
        if (!File.Exists(rootfs)) problems.Add($"default root filesystem missing at {rootfs}: {fix}");
        if (problems.Count > 0) throw new EngineUnavailableException("qemu", string.Join("; ", problems));
        return new QemuAssets(qemu!, kernel, initrd, rootfs, dir) {
            BusyboxInitrd = File.Exists(busyboxInitrd) ? busyboxInitrd : null,
            NetFilter = File.Exists(netFilter) ? netFilter : null,
        };
    }

    private static string Resolve(string dir, JsonElement root, string key, string fallback)
    {
        if (!root.TryGetProperty(key, out var v)) return fallback;
        var name = v.ValueKind == JsonValueKind.Object && v.TryGetProperty("path", out var p) ? p.GetString() : null;
        return name is null ? fallback : Path.Combine(dir, name);
    }

    /// <summary>Looks a program up on PATH.</summary>
    public static string? FindOnPath(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':'))
        {
            if (dir.Length == 0) continue;
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
