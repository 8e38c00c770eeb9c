using Microsandbox.Engines.Qemu;

namespace Microsandbox;

/// <summary>
/// Images that ship with the toolkit and need no registry: a minimal Debian <c>busybox-static</c> root filesystem as a
/// raw ext4 disk, shipped in the <c>Microsandbox.Guest.linux-x64</c> package and unpacked with the other guest assets
/// (<c>busybox.raw</c> in <see cref="QemuAssets.DefaultDirectory"/>).
/// Sandboxes boot it copy-on-write, so it is never modified.
/// </summary>
public static class BuiltinImages
{
    /// <summary>Path of the busybox root disk (reading it unpacks the packaged guest assets on first use, so it exists).</summary>
    public static string BusyboxDisk => Path.Combine(QemuAssets.UnpackedDefaultDirectory(), "busybox.raw");

    /// <summary>The busybox image, for <c>new SandboxBuilder(name).Image(BuiltinImages.Busybox)</c>.</summary>
    public static Func<ImageBuilder, ImageBuilder> Busybox => image => image.Disk(BusyboxDisk).Fstype("ext4");

    /// <summary>Whether a root disk path is the built-in busybox disk (engines may boot it a faster way).</summary>
    internal static bool IsBusyboxDisk(string path) =>
        string.Equals(Path.GetFullPath(path), Path.GetFullPath(BusyboxDisk), StringComparison.Ordinal);
}
