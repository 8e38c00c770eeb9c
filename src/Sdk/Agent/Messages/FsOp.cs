using System.Formats.Cbor;
using Microsandbox.Agent.Cbor;

namespace Microsandbox.Agent;

/// <summary>
/// A filesystem operation (closed set). On the wire each is serde's externally tagged form:
/// a one-entry map from the variant name (e.g. <c>"Stat"</c>) to a map of its fields.
/// </summary>
public abstract record FsOp
{
    private FsOp() { }

    /// <summary>The variant name used as the map key on the wire.</summary>
    public abstract string Variant { get; }

    /// <summary>Resolve a path to its canonical absolute form.</summary>
    /// <param name="Path">Guest path.</param>
    public sealed record RealPath(string Path) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "RealPath";
        private protected override void WriteFields(CborWriter w) => Fields(w, ("path", Path));
    }

    /// <summary>Metadata of a path.</summary>
    /// <param name="Path">Guest path.</param>
    /// <param name="FollowSymlink">Whether to follow a final symlink.</param>
    public sealed record Stat(string Path, bool FollowSymlink) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "Stat";
        private protected override void WriteFields(CborWriter w)
        {
            w.WriteStartMap(2);
            w.WriteTextString("path");
            w.WriteTextString(Path);
            w.WriteTextString("follow_symlink");
            w.WriteBoolean(FollowSymlink);
            w.WriteEndMap();
        }
    }

    /// <summary>Update metadata of a path.</summary>
    /// <param name="Path">Guest path.</param>
    /// <param name="FollowSymlink">Whether to follow a final symlink.</param>
    /// <param name="Attrs">Attributes to set.</param>
    public sealed record SetStat(string Path, bool FollowSymlink, FsSetAttrs Attrs) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "SetStat";
        private protected override void WriteFields(CborWriter w)
        {
            w.WriteStartMap(3);
            w.WriteTextString("path");
            w.WriteTextString(Path);
            w.WriteTextString("follow_symlink");
            w.WriteBoolean(FollowSymlink);
            w.WriteTextString("attrs");
            Attrs.WriteTo(w);
            w.WriteEndMap();
        }
    }

    /// <summary>List a directory.</summary>
    /// <param name="Path">Guest directory.</param>
    public sealed record List(string Path) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "List";
        private protected override void WriteFields(CborWriter w) => Fields(w, ("path", Path));
    }

    /// <summary>Read a symlink's target.</summary>
    /// <param name="Path">Guest symlink.</param>
    public sealed record ReadLink(string Path) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "ReadLink";
        private protected override void WriteFields(CborWriter w) => Fields(w, ("path", Path));
    }

    /// <summary>Create a symlink.</summary>
    /// <param name="Target">Link target.</param>
    /// <param name="LinkPath">Path of the link to create.</param>
    public sealed record Symlink(string Target, string LinkPath) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "Symlink";
        private protected override void WriteFields(CborWriter w) => Fields(w, ("target", Target), ("link_path", LinkPath));
    }

    /// <summary>Create a directory and its parents.</summary>
    /// <param name="Path">Guest directory.</param>
    /// <param name="Mode">Permission bits, or null for the default.</param>
    public sealed record Mkdir(string Path, uint? Mode = null) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "Mkdir";
        private protected override void WriteFields(CborWriter w)
        {
            w.WriteStartMap(2);
            w.WriteTextString("path");
            w.WriteTextString(Path);
            w.WriteTextString("mode");
            CborFields.WriteOptional(w, Mode);
            w.WriteEndMap();
        }
    }

    /// <summary>Remove a file.</summary>
    /// <param name="Path">Guest file.</param>
    public sealed record Remove(string Path) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "Remove";
        private protected override void WriteFields(CborWriter w) => Fields(w, ("path", Path));
    }

    /// <summary>Remove a directory.</summary>
    /// <param name="Path">Guest directory.</param>
    /// <param name="Recursive">Whether to remove its contents too.</param>
    public sealed record RemoveDir(string Path, bool Recursive) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "RemoveDir";
        private protected override void WriteFields(CborWriter w)
        {
            w.WriteStartMap(2);
            w.WriteTextString("path");
            w.WriteTextString(Path);
            w.WriteTextString("recursive");
            w.WriteBoolean(Recursive);
            w.WriteEndMap();
        }
    }

    /// <summary>Copy a file or directory inside the guest.</summary>
    /// <param name="Src">Source path.</param>
    /// <param name="Dst">Destination path.</param>
    public sealed record Copy(string Src, string Dst) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "Copy";
        private protected override void WriteFields(CborWriter w) => Fields(w, ("src", Src), ("dst", Dst));
    }

    /// <summary>Rename or move a file or directory.</summary>
    /// <param name="Src">Source path.</param>
    /// <param name="Dst">Destination path.</param>
    public sealed record Rename(string Src, string Dst) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "Rename";
        private protected override void WriteFields(CborWriter w) => Fields(w, ("src", Src), ("dst", Dst));
    }

    /// <summary>Open a file and get a guest-side handle (owned by this client's id range).</summary>
    /// <param name="Path">Guest file.</param>
    /// <param name="Options">Open options.</param>
    public sealed record OpenFile(string Path, FsOpenOptions Options) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "OpenFile";
        private protected override void WriteFields(CborWriter w)
        {
            w.WriteStartMap(2);
            w.WriteTextString("path");
            w.WriteTextString(Path);
            w.WriteTextString("options");
            Options.WriteTo(w);
            w.WriteEndMap();
        }
    }

    /// <summary>Open a directory and get a guest-side handle.</summary>
    /// <param name="Path">Guest directory.</param>
    public sealed record OpenDir(string Path) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "OpenDir";
        private protected override void WriteFields(CborWriter w) => Fields(w, ("path", Path));
    }

    /// <summary>Close a file or directory handle.</summary>
    /// <param name="Handle">Guest-side handle.</param>
    public sealed record CloseHandle(ulong Handle) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "CloseHandle";
        private protected override void WriteFields(CborWriter w) => HandleOnly(w, Handle);
    }

    /// <summary>Stream a file handle's bytes back as <c>core.fs.data</c> chunks, then a <c>core.fs.response</c>.</summary>
    /// <param name="Handle">Guest-side file handle.</param>
    /// <param name="Offset">Byte offset to start at.</param>
    /// <param name="Len">Maximum bytes; null reads to end of file.</param>
    public sealed record Read(ulong Handle, ulong Offset, ulong? Len) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "Read";
        private protected override void WriteFields(CborWriter w) => HandleOffsetLen(w, Handle, Offset, Len);
    }

    /// <summary>Write the following <c>core.fs.data</c> chunks (ended by an empty one) to a file handle.</summary>
    /// <param name="Handle">Guest-side file handle.</param>
    /// <param name="Offset">Byte offset to write at.</param>
    /// <param name="Len">Expected byte count; null disables the check.</param>
    public sealed record Write(ulong Handle, ulong Offset, ulong? Len) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "Write";
        private protected override void WriteFields(CborWriter w) => HandleOffsetLen(w, Handle, Offset, Len);
    }

    /// <summary>Read the next batch of entries of a directory handle.</summary>
    /// <param name="Handle">Guest-side directory handle.</param>
    /// <param name="Limit">Maximum entries; null uses the agent default.</param>
    public sealed record ReadDir(ulong Handle, uint? Limit) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "ReadDir";
        private protected override void WriteFields(CborWriter w)
        {
            w.WriteStartMap(2);
            w.WriteTextString("handle");
            w.WriteUInt64(Handle);
            w.WriteTextString("limit");
            CborFields.WriteOptional(w, Limit);
            w.WriteEndMap();
        }
    }

    /// <summary>Metadata of an open handle.</summary>
    /// <param name="Handle">Guest-side handle.</param>
    public sealed record FStat(ulong Handle) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "FStat";
        private protected override void WriteFields(CborWriter w) => HandleOnly(w, Handle);
    }

    /// <summary>Update metadata of an open file handle.</summary>
    /// <param name="Handle">Guest-side handle.</param>
    /// <param name="Attrs">Attributes to set.</param>
    public sealed record FSetStat(ulong Handle, FsSetAttrs Attrs) : FsOp
    {
        /// <inheritdoc/>
        public override string Variant => "FSetStat";
        private protected override void WriteFields(CborWriter w)
        {
            w.WriteStartMap(2);
            w.WriteTextString("handle");
            w.WriteUInt64(Handle);
            w.WriteTextString("attrs");
            Attrs.WriteTo(w);
            w.WriteEndMap();
        }
    }

    /// <summary>Writes the externally tagged form <c>{Variant: {fields}}</c>.</summary>
    internal void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(1);
        writer.WriteTextString(Variant);
        WriteFields(writer);
        writer.WriteEndMap();
    }

    private protected abstract void WriteFields(CborWriter writer);

    internal static FsOp ReadFrom(CborReader reader)
    {
        reader.ReadStartMap();
        var variant = reader.ReadTextString();
        string? path = null, target = null, linkPath = null, src = null, dst = null;
        bool follow = false, recursive = false;
        uint? mode = null, limit = null;
        ulong handle = 0, offset = 0;
        ulong? len = null;
        FsSetAttrs attrs = new();
        FsOpenOptions options = new();
        CborFields.ReadMap(reader, key =>
        {
            switch (key)
            {
                case "path": path = reader.ReadTextString(); return true;
                case "target": target = reader.ReadTextString(); return true;
                case "link_path": linkPath = reader.ReadTextString(); return true;
                case "src": src = reader.ReadTextString(); return true;
                case "dst": dst = reader.ReadTextString(); return true;
                case "follow_symlink": follow = reader.ReadBoolean(); return true;
                case "recursive": recursive = reader.ReadBoolean(); return true;
                case "mode": mode = CborFields.ReadOptionalUInt32(reader); return true;
                case "limit": limit = CborFields.ReadOptionalUInt32(reader); return true;
                case "handle": handle = reader.ReadUInt64(); return true;
                case "offset": offset = reader.ReadUInt64(); return true;
                case "len": len = CborFields.ReadOptionalUInt64(reader); return true;
                case "attrs": attrs = FsSetAttrs.ReadFrom(reader); return true;
                case "options": options = FsOpenOptions.ReadFrom(reader); return true;
                default: return false;
            }
        });
        while (reader.PeekState() != CborReaderState.EndMap)
        {
            reader.SkipValue();
        }

        reader.ReadEndMap();
        string Need(string? value, string field) =>
            value ?? throw new CborContentException($"fs op {variant} lacks {field}");
        return variant switch
        {
            "RealPath" => new RealPath(Need(path, "path")),
            "Stat" => new Stat(Need(path, "path"), follow),
            "SetStat" => new SetStat(Need(path, "path"), follow, attrs),
            "List" => new List(Need(path, "path")),
            "ReadLink" => new ReadLink(Need(path, "path")),
            "Symlink" => new Symlink(Need(target, "target"), Need(linkPath, "link_path")),
            "Mkdir" => new Mkdir(Need(path, "path"), mode),
            "Remove" => new Remove(Need(path, "path")),
            "RemoveDir" => new RemoveDir(Need(path, "path"), recursive),
            "Copy" => new Copy(Need(src, "src"), Need(dst, "dst")),
            "Rename" => new Rename(Need(src, "src"), Need(dst, "dst")),
            "OpenFile" => new OpenFile(Need(path, "path"), options),
            "OpenDir" => new OpenDir(Need(path, "path")),
            "CloseHandle" => new CloseHandle(handle),
            "Read" => new Read(handle, offset, len),
            "Write" => new Write(handle, offset, len),
            "ReadDir" => new ReadDir(handle, limit),
            "FStat" => new FStat(handle),
            "FSetStat" => new FSetStat(handle, attrs),
            _ => throw new CborContentException($"unknown fs op variant {variant}"),
        };
    }

    private static void Fields(CborWriter w, params (string Key, string Value)[] fields)
    {
        w.WriteStartMap(fields.Length);
        foreach (var (key, value) in fields)
        {
            w.WriteTextString(key);
            w.WriteTextString(value);
        }

        w.WriteEndMap();
    }

    private static void HandleOnly(CborWriter w, ulong handle)
    {
        w.WriteStartMap(1);
        w.WriteTextString("handle");
        w.WriteUInt64(handle);
        w.WriteEndMap();
    }

    private static void HandleOffsetLen(CborWriter w, ulong handle, ulong offset, ulong? len)
    {
        w.WriteStartMap(3);
        w.WriteTextString("handle");
        w.WriteUInt64(handle);
        w.WriteTextString("offset");
        w.WriteUInt64(offset);
        w.WriteTextString("len");
        CborFields.WriteOptional(w, len);
        w.WriteEndMap();
    }
}
