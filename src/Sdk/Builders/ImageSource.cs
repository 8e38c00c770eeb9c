using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>
/// User input naming a root filesystem, resolved to a <see cref="RootfsSource"/>:
/// text is a local path when it is <c>.</c>, <c>..</c> or starts with <c>/</c>, <c>./</c> or <c>../</c>,
/// otherwise an OCI reference; an explicit path is always local. A local path whose extension is
/// <c>.qcow2</c>, <c>.raw</c> or <c>.vmdk</c> is a disk image, one ending <c>.tar</c>, <c>.tar.gz</c> or <c>.tgz</c>
/// is an OCI or <c>docker save</c> image archive (an OCI source whose reference is the path), any other is a
/// directory to bind, unless it is an OCI image layout (<c>oci-layout</c> and <c>index.json</c> at its top).
/// </summary>
public sealed class ImageSource
{
    private readonly string _value;
    private readonly bool _isPath;

    private ImageSource(string value, bool isPath)
    {
        _value = value;
        _isPath = isPath;
    }

    /// <summary>Text to resolve: a local path by its shape, otherwise an OCI image reference.</summary>
    public static ImageSource FromText(string text) => new(text ?? throw new ArgumentNullException(nameof(text)), isPath: false);

    /// <summary>An explicit host path; always local (directory bind or disk image by extension).</summary>
    public static ImageSource FromPath(string path) => new(path ?? throw new ArgumentNullException(nameof(path)), isPath: true);

    /// <summary>Text converts implicitly, resolved by <see cref="FromText"/>.</summary>
    public static implicit operator ImageSource(string text) => FromText(text);

    /// <summary>A directory converts implicitly to an explicit local path.</summary>
    public static implicit operator ImageSource(DirectoryInfo directory) =>
        FromPath((directory ?? throw new ArgumentNullException(nameof(directory))).FullName);

    /// <summary>A file converts implicitly to an explicit local path (a disk image by extension).</summary>
    public static implicit operator ImageSource(FileInfo file) =>
        FromPath((file ?? throw new ArgumentNullException(nameof(file))).FullName);

    /// <summary>Resolves this input to a root filesystem source.</summary>
    public RootfsSource ToRootfsSource() =>
        _isPath || LooksLikeLocalPath(_value) ? ResolvePath(_value) : RootfsSource.ForOci(_value);

    /// <summary>Whether text names a local path rather than an OCI reference.</summary>
    internal static bool LooksLikeLocalPath(string text) =>
        text is "." or ".." ||
        text.StartsWith('/') ||
        text.StartsWith("./", StringComparison.Ordinal) ||
        text.StartsWith("../", StringComparison.Ordinal);

    private static RootfsSource ResolvePath(string path) =>
        IsImageArchive(path) || IsImageLayout(path) ? RootfsSource.ForOci(LooksLikeLocalPath(path) ? path : "./" + path) :
        DiskImageFormatExtensions.FromExtension(RustText.Extension(path) ?? "") is { } format
            ? new RootfsSource.DiskImage { Path = path, Format = format, Fstype = null }
            : new RootfsSource.Bind(path);

    /// <summary>
    /// An OCI image layout directory (<c>oci-layout</c> and <c>index.json</c> at its top): what <c>docker save</c>,
    /// <c>skopeo copy … oci:DIR</c> and <c>./build.sh Images</c> write. No root filesystem has those two files at its
    /// root, so the directory is an image, not a tree to bind.
    /// </summary>
    internal static bool IsImageLayout(string path) =>
        File.Exists(Path.Combine(path, "oci-layout")) && File.Exists(Path.Combine(path, "index.json"));

    /// <summary>An OCI or <c>docker save</c> archive, by name: <c>.tar</c>, <c>.tar.gz</c> or <c>.tgz</c>.</summary>
    internal static bool IsImageArchive(string path) =>
        path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) ||
        path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) ||
        path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public override string ToString() => _value;
}
