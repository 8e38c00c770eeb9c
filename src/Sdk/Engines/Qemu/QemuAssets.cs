using System.Text.Json;

namespace Microsandbox.Engines.Qemu;

/// <summary>
/// What the QEMU engine boots: the QEMU binary, the uncompressed kernel, our initramfs (guest agent as /init) and the
/// default busybox root disk, as assembled by <c>native/build.sh</c> into <c>~/.microsandbox/qemu</c>.
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

    /// <summary>Where the build installs the assets unless told otherwise.</summary>
    public static string DefaultDirectory =>
        Environment.GetEnvironmentVariable("MSB_QEMU_ASSETS") is { Length: > 0 } dir
            ? dir
            : Path.Combine(Host.MicrosandboxHome.UserInstallRoot(), "qemu");

    /// <summary>Finds the assets, or explains exactly what is missing and how to get it.</summary>
    /// <param name="directory">Asset directory (defaults to <see cref="DefaultDirectory"/>).</param>
    /// <param name="qemuBinary">QEMU binary (defaults to PATH lookup of qemu-system-x86_64).</param>
    public static QemuAssets Locate(string? directory = null, string? qemuBinary = null)
    {
        var problems = new List<string>();
        var dir = directory ?? DefaultDirectory;
        var qemu = qemuBinary ?? FindOnPath("qemu-system-x86_64");
        if (qemu is null || !File.Exists(qemu))
            problems.Add("QEMU (qemu-system-x86_64) is not installed: run ./build.sh Install (Debian package qemu-system-x86)");

        string kernel = Path.Combine(dir, "vmlinux"), initrd = Path.Combine(dir, "initrd.cpio"), rootfs = Path.Combine(dir, "rootfs.ext4");
        string busyboxInitrd = Path.Combine(dir, "initrd-busybox.cpio");
        var manifest = Path.Combine(dir, "manifest.json");
        if (File.Exists(manifest))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(manifest));
            if (doc.RootElement.TryGetProperty("files", out var files))
            {
                kernel = Resolve(dir, files, "kernel", kernel);
                initrd = Resolve(dir, files, "initrd", initrd);
                rootfs = Resolve(dir, files, "rootfs_ext4", rootfs);
                busyboxInitrd = Resolve(dir, files, "initrd_busybox", busyboxInitrd);
            }
        }
        if (!File.Exists(kernel)) problems.Add($"guest kernel missing at {kernel}: run ./build.sh Native");
        if (!File.Exists(initrd)) problems.Add($"guest initramfs missing at {initrd}: run ./build.sh Native");
        if (!File.Exists(rootfs)) problems.Add($"default root filesystem missing at {rootfs}: run ./build.sh Native");
        if (problems.Count > 0) throw new EngineUnavailableException("qemu", string.Join("; ", problems));
        return new QemuAssets(qemu!, kernel, initrd, rootfs, dir) { BusyboxInitrd = File.Exists(busyboxInitrd) ? busyboxInitrd : null };
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
