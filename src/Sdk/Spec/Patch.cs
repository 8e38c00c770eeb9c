namespace Microsandbox.Spec;

/// <summary>
/// A rootfs patch applied before the VM starts. Externally tagged on the wire:
/// <c>{"Text":{...}}</c>, <c>{"File":{...}}</c>, <c>{"CopyFile":{...}}</c>, <c>{"CopyDir":{...}}</c>,
/// <c>{"Symlink":{...}}</c>, <c>{"Mkdir":{...}}</c>, <c>{"Remove":{...}}</c>, <c>{"Append":{...}}</c>.
/// </summary>
public abstract record Patch
{
    private protected Patch() { }

    /// <summary>Write text content to a file.</summary>
    public sealed record Text : Patch
    {
        /// <summary>Absolute guest path, such as <c>/etc/app.conf</c>.</summary>
        public string Path { get; init; } = "";

        /// <summary>Text to write.</summary>
        public string Content { get; init; } = "";

        /// <summary>File permissions such as <c>0o644</c>; <see langword="null"/> uses the default.</summary>
        public uint? Mode { get; init; }

        /// <summary>Whether an existing file may be replaced. Required on read.</summary>
        public bool Replace { get; init; }
    }

    /// <summary>Write raw bytes to a file. The bytes travel as a JSON array of numbers.</summary>
    public sealed record File : Patch
    {
        /// <summary>Absolute guest path.</summary>
        public string Path { get; init; } = "";

        /// <summary>Bytes to write.</summary>
        public ReadOnlyMemory<byte> Content { get; init; }

        /// <summary>File permissions; <see langword="null"/> uses the default.</summary>
        public uint? Mode { get; init; }

        /// <summary>Whether an existing file may be replaced. Required on read.</summary>
        public bool Replace { get; init; }

        /// <summary>Whether both write the same bytes to the same path with the same mode and replace flag.</summary>
        public bool Equals(File? other) =>
            other is not null && Path == other.Path && Content.Span.SequenceEqual(other.Content.Span)
            && Mode == other.Mode && Replace == other.Replace;

        /// <summary>A hash consistent with <see cref="Equals(File?)"/>.</summary>
        public override int GetHashCode() => HashCode.Combine(Path, Content.Length, Mode, Replace);
    }

    /// <summary>Copy a host file into the rootfs.</summary>
    public sealed record CopyFile : Patch
    {
        /// <summary>Host path to copy from.</summary>
        public string Src { get; init; } = "";

        /// <summary>Absolute guest destination path.</summary>
        public string Dst { get; init; } = "";

        /// <summary>File permissions; <see langword="null"/> keeps the source's.</summary>
        public uint? Mode { get; init; }

        /// <summary>Whether an existing file may be replaced. Required on read.</summary>
        public bool Replace { get; init; }
    }

    /// <summary>Copy a host directory into the rootfs.</summary>
    public sealed record CopyDir : Patch
    {
        /// <summary>Host directory to copy from.</summary>
        public string Src { get; init; } = "";

        /// <summary>Absolute guest destination path.</summary>
        public string Dst { get; init; } = "";

        /// <summary>Whether existing files may be replaced. Required on read.</summary>
        public bool Replace { get; init; }
    }

    /// <summary>Create a symlink.</summary>
    public sealed record Symlink : Patch
    {
        /// <summary>Symlink target.</summary>
        public string Target { get; init; } = "";

        /// <summary>Absolute guest path of the link.</summary>
        public string Link { get; init; } = "";

        /// <summary>Whether an existing path may be replaced. Required on read.</summary>
        public bool Replace { get; init; }
    }

    /// <summary>Create a directory.</summary>
    public sealed record Mkdir : Patch
    {
        /// <summary>Absolute guest path.</summary>
        public string Path { get; init; } = "";

        /// <summary>Directory permissions such as <c>0o755</c>; <see langword="null"/> uses the default.</summary>
        public uint? Mode { get; init; }
    }

    /// <summary>Remove a file or directory.</summary>
    public sealed record Remove : Patch
    {
        /// <summary>Absolute guest path to remove.</summary>
        public string Path { get; init; } = "";
    }

    /// <summary>Append text to an existing file.</summary>
    public sealed record Append : Patch
    {
        /// <summary>Absolute guest path of the file.</summary>
        public string Path { get; init; } = "";

        /// <summary>Text to append.</summary>
        public string Content { get; init; } = "";
    }
}
