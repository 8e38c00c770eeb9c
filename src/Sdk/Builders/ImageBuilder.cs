using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>
/// Configures a sandbox's root filesystem explicitly: an OCI reference (with an optional writable upper
/// size) or a disk image (with an optional inner filesystem type). Immutable: every method returns a new
/// builder. Used by <see cref="SandboxBuilder.ImageWith"/>, e.g. <c>i =&gt; i.Oci("python:3.12").UpperSize(8192)</c>.
/// </summary>
public sealed class ImageBuilder
{
    private RootfsSource? _source;
    private string? _error;

    /// <summary>Creates an empty image builder.</summary>
    public ImageBuilder() { }

    /// <summary>Uses an OCI image reference as the root filesystem.</summary>
    public ImageBuilder Oci(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return With(b => b._source = RootfsSource.ForOci(reference));
    }

    /// <summary>Sets the writable overlay upper size in MiB. Valid only after <see cref="Oci"/>.</summary>
    public ImageBuilder UpperSize(uint sizeMib) => With(b =>
    {
        if (b._source is RootfsSource.Oci oci)
        {
            b._source = oci with { Source = oci.Source with { UpperSizeMib = sizeMib } };
        }
        else
        {
            b._error ??= "upper_size() requires oci() to be called first";
        }
    });

    /// <summary>
    /// Uses a disk image file as the root filesystem. The format comes from the extension
    /// (<c>.qcow2</c>, <c>.raw</c>, <c>.vmdk</c>); any other extension is an error.
    /// </summary>
    public ImageBuilder Disk(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return With(b =>
        {
            var extension = RustText.Extension(path) ?? "";
            if (DiskImageFormatExtensions.FromExtension(extension) is not { } format)
            {
                b._error = $"unrecognized disk image extension: {RustText.Quote(extension)} (expected .qcow2, .raw, or .vmdk)";
                return;
            }
            b._source = new RootfsSource.DiskImage { Path = path, Format = format, Fstype = null };
        });
    }

    /// <summary>Sets the inner filesystem type of the disk image. Valid only after <see cref="Disk"/>; omit it to let the guest probe.</summary>
    public ImageBuilder Fstype(string fstype)
    {
        ArgumentNullException.ThrowIfNull(fstype);
        return With(b =>
        {
            if (MountRules.FstypeError(fstype) is { } message)
            {
                b._error = message;
                return;
            }
            if (b._source is RootfsSource.DiskImage disk)
            {
                b._source = disk with { Fstype = fstype };
            }
            else
            {
                b._error ??= "fstype() requires disk() to be called first";
            }
        });
    }

    /// <summary>Returns the configured root filesystem source.</summary>
    /// <exception cref="InvalidConfigException">A method was misused or no source was set.</exception>
    public RootfsSource Build()
    {
        if (_error is not null)
        {
            throw new InvalidConfigException(_error);
        }
        return _source ?? throw new InvalidConfigException("ImageBuilder: no image source set (call .oci() or .disk())");
    }

    private ImageBuilder With(Action<ImageBuilder> change)
    {
        var copy = (ImageBuilder)MemberwiseClone();
        change(copy);
        return copy;
    }
}
