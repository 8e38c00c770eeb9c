namespace Microsandbox.Spec;

/// <summary>Lowercase names and parsing for <see cref="DiskImageFormat"/> (the CLI spelling, not the JSON one).</summary>
public static class DiskImageFormatExtensions
{
    /// <summary>Returns the lowercase CLI-safe name: <c>qcow2</c>, <c>raw</c> or <c>vmdk</c>.</summary>
    public static string AsStr(this DiskImageFormat format) => format switch
    {
        DiskImageFormat.Qcow2 => "qcow2",
        DiskImageFormat.Raw => "raw",
        DiskImageFormat.Vmdk => "vmdk",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown disk image format"),
    };

    /// <summary>Returns the format a file extension (without the dot) names, or <see langword="null"/> if it names none.</summary>
    public static DiskImageFormat? FromExtension(string extension) => extension switch
    {
        "qcow2" => DiskImageFormat.Qcow2,
        "raw" => DiskImageFormat.Raw,
        "vmdk" => DiskImageFormat.Vmdk,
        _ => null,
    };

    /// <summary>Parses a lowercase format name.</summary>
    /// <exception cref="FormatException">The text is not <c>qcow2</c>, <c>raw</c> or <c>vmdk</c> (message <c>unknown disk image format: TEXT</c>).</exception>
    public static DiskImageFormat Parse(string text) =>
        TryParse(text, out var format) ? format : throw new FormatException($"unknown disk image format: {text}");

    /// <summary>Parses a lowercase format name; returns <see langword="false"/> if it names no format.</summary>
    public static bool TryParse(string text, out DiskImageFormat format)
    {
        DiskImageFormat? parsed = FromExtension(text);
        format = parsed.GetValueOrDefault();
        return parsed.HasValue;
    }
}
