using System.Formats.Cbor;
using Microsandbox.Agent.Cbor;

namespace Microsandbox.Agent;

/// <summary>Attributes for set-stat operations; null fields are left unchanged (all six are always on the wire, null when unset).</summary>
public sealed record FsSetAttrs
{
    /// <summary>Permission bits.</summary>
    public uint? Mode { get; init; }
    /// <summary>Owner user id.</summary>
    public uint? Uid { get; init; }
    /// <summary>Owner group id.</summary>
    public uint? Gid { get; init; }
    /// <summary>File size (truncate/extend).</summary>
    public ulong? Size { get; init; }
    /// <summary>Access time, Unix seconds.</summary>
    public long? Atime { get; init; }
    /// <summary>Modification time, Unix seconds.</summary>
    public long? Mtime { get; init; }

    internal void WriteTo(CborWriter w)
    {
        w.WriteStartMap(6);
        w.WriteTextString("mode");
        CborFields.WriteOptional(w, Mode);
        w.WriteTextString("uid");
        CborFields.WriteOptional(w, Uid);
        w.WriteTextString("gid");
        CborFields.WriteOptional(w, Gid);
        w.WriteTextString("size");
        CborFields.WriteOptional(w, Size);
        w.WriteTextString("atime");
        CborFields.WriteOptional(w, Atime);
        w.WriteTextString("mtime");
        CborFields.WriteOptional(w, Mtime);
        w.WriteEndMap();
    }

    internal static FsSetAttrs ReadFrom(CborReader r)
    {
        var attrs = new FsSetAttrs();
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "mode": attrs = attrs with { Mode = CborFields.ReadOptionalUInt32(r) }; return true;
                case "uid": attrs = attrs with { Uid = CborFields.ReadOptionalUInt32(r) }; return true;
                case "gid": attrs = attrs with { Gid = CborFields.ReadOptionalUInt32(r) }; return true;
                case "size": attrs = attrs with { Size = CborFields.ReadOptionalUInt64(r) }; return true;
                case "atime": attrs = attrs with { Atime = CborFields.ReadOptionalInt64(r) }; return true;
                case "mtime": attrs = attrs with { Mtime = CborFields.ReadOptionalInt64(r) }; return true;
                default: return false;
            }
        });
        return attrs;
    }
}

/// <summary>How to open a file handle (mirrors Rust's <c>OpenOptions</c>).</summary>
public sealed record FsOpenOptions
{
    /// <summary>Open for reading.</summary>
    public bool Read { get; init; }
    /// <summary>Open for writing.</summary>
    public bool Write { get; init; }
    /// <summary>Append writes to the end.</summary>
    public bool Append { get; init; }
    /// <summary>Create the file if missing.</summary>
    public bool Create { get; init; }
    /// <summary>Truncate after opening.</summary>
    public bool Truncate { get; init; }
    /// <summary>Create a new file and fail if it exists.</summary>
    public bool CreateNew { get; init; }
    /// <summary>Permission bits on creation; null for the default.</summary>
    public uint? Mode { get; init; }

    /// <summary>Read-only, as upstream's whole-file read uses.</summary>
    public static FsOpenOptions ForRead { get; } = new() { Read = true };

    /// <summary>Write + create + truncate, as upstream's whole-file write uses.</summary>
    public static FsOpenOptions ForWrite { get; } = new() { Write = true, Create = true, Truncate = true };

    internal void WriteTo(CborWriter w)
    {
        w.WriteStartMap(7);
        w.WriteTextString("read");
        w.WriteBoolean(Read);
        w.WriteTextString("write");
        w.WriteBoolean(Write);
        w.WriteTextString("append");
        w.WriteBoolean(Append);
        w.WriteTextString("create");
        w.WriteBoolean(Create);
        w.WriteTextString("truncate");
        w.WriteBoolean(Truncate);
        w.WriteTextString("create_new");
        w.WriteBoolean(CreateNew);
        w.WriteTextString("mode");
        CborFields.WriteOptional(w, Mode);
        w.WriteEndMap();
    }

    internal static FsOpenOptions ReadFrom(CborReader r)
    {
        var o = new FsOpenOptions();
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "read": o = o with { Read = r.ReadBoolean() }; return true;
                case "write": o = o with { Write = r.ReadBoolean() }; return true;
                case "append": o = o with { Append = r.ReadBoolean() }; return true;
                case "create": o = o with { Create = r.ReadBoolean() }; return true;
                case "truncate": o = o with { Truncate = r.ReadBoolean() }; return true;
                case "create_new": o = o with { CreateNew = r.ReadBoolean() }; return true;
                case "mode": o = o with { Mode = CborFields.ReadOptionalUInt32(r) }; return true;
                default: return false;
            }
        });
        return o;
    }
}

/// <summary><c>core.fs.request</c>: <c>{"op": FsOp}</c> (opens a session on its correlation id).</summary>
/// <param name="Op">The operation.</param>
public sealed record FsRequest(FsOp Op) : IAgentPayload<FsRequest>
{
    static string IAgentPayload<FsRequest>.WireType => MessageType.FsRequest;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(1);
        writer.WriteTextString("op");
        Op.WriteTo(writer);
        writer.WriteEndMap();
    }

    static FsRequest IAgentPayload<FsRequest>.ReadFrom(CborReader reader)
    {
        FsOp? op = null;
        CborFields.ReadMap(reader, key =>
        {
            if (key != "op") return false;
            op = FsOp.ReadFrom(reader);
            return true;
        });
        return new FsRequest(op ?? throw new CborContentException("core.fs.request lacks op"));
    }
}

/// <summary>Metadata of one guest filesystem entry.</summary>
/// <param name="Path">Path of the entry.</param>
/// <param name="Kind"><c>file</c>, <c>dir</c>, <c>symlink</c> or <c>other</c>.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Mode">Unix mode bits (type and permissions).</param>
/// <param name="Modified">Modification time, Unix seconds (legacy field; same as <paramref name="Mtime"/>).</param>
/// <param name="Uid">Owner user id.</param>
/// <param name="Gid">Owner group id.</param>
/// <param name="Atime">Access time, Unix seconds.</param>
/// <param name="Mtime">Modification time, Unix seconds.</param>
public sealed record FsEntryInfo(
    string Path, string Kind, ulong Size, uint Mode, long? Modified, uint Uid, uint Gid, long? Atime, long? Mtime)
{
    /// <summary>Whether the entry is a regular file.</summary>
    public bool IsFile => Kind == "file";

    /// <summary>Whether the entry is a directory.</summary>
    public bool IsDirectory => Kind == "dir";

    /// <summary>Whether the entry is a symlink.</summary>
    public bool IsSymlink => Kind == "symlink";

    internal void WriteTo(CborWriter w)
    {
        w.WriteStartMap(9);
        w.WriteTextString("path");
        w.WriteTextString(Path);
        w.WriteTextString("kind");
        w.WriteTextString(Kind);
        w.WriteTextString("size");
        w.WriteUInt64(Size);
        w.WriteTextString("mode");
        w.WriteUInt32(Mode);
        w.WriteTextString("modified");
        CborFields.WriteOptional(w, Modified);
        w.WriteTextString("uid");
        w.WriteUInt32(Uid);
        w.WriteTextString("gid");
        w.WriteUInt32(Gid);
        w.WriteTextString("atime");
        CborFields.WriteOptional(w, Atime);
        w.WriteTextString("mtime");
        CborFields.WriteOptional(w, Mtime);
        w.WriteEndMap();
    }

    internal static FsEntryInfo ReadFrom(CborReader r)
    {
        string path = "", kind = "other";
        ulong size = 0;
        uint mode = 0, uid = 0, gid = 0;
        long? modified = null, atime = null, mtime = null;
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "path": path = r.ReadTextString(); return true;
                case "kind": kind = r.ReadTextString(); return true;
                case "size": size = r.ReadUInt64(); return true;
                case "mode": mode = r.ReadUInt32(); return true;
                case "modified": modified = CborFields.ReadOptionalInt64(r); return true;
                case "uid": uid = r.ReadUInt32(); return true;
                case "gid": gid = r.ReadUInt32(); return true;
                case "atime": atime = CborFields.ReadOptionalInt64(r); return true;
                case "mtime": mtime = CborFields.ReadOptionalInt64(r); return true;
                default: return false;
            }
        });
        return new FsEntryInfo(path, kind, size, mode, modified, uid, gid, atime, mtime);
    }
}

/// <summary>Result data of a filesystem response (closed set; externally tagged on the wire, e.g. <c>{"Handle": 7}</c>).</summary>
public abstract record FsResponseData
{
    private FsResponseData() { }

    /// <summary>A stat result.</summary>
    /// <param name="Info">The entry.</param>
    public sealed record Stat(FsEntryInfo Info) : FsResponseData;

    /// <summary>A directory listing.</summary>
    /// <param name="Entries">The entries.</param>
    public sealed record List(IReadOnlyList<FsEntryInfo> Entries) : FsResponseData;

    /// <summary>An opened handle.</summary>
    /// <param name="Value">The guest-side handle.</param>
    public sealed record Handle(ulong Value) : FsResponseData;

    /// <summary>A resolved path or symlink target.</summary>
    /// <param name="Value">The path.</param>
    public sealed record Path(string Value) : FsResponseData;

    internal void WriteTo(CborWriter w)
    {
        w.WriteStartMap(1);
        switch (this)
        {
            case Stat s:
                w.WriteTextString("Stat");
                s.Info.WriteTo(w);
                break;
            case List l:
                w.WriteTextString("List");
                CborFields.WriteArray(w, l.Entries, static (writer, e) => e.WriteTo(writer));
                break;
            case Handle h:
                w.WriteTextString("Handle");
                w.WriteUInt64(h.Value);
                break;
            case Path p:
                w.WriteTextString("Path");
                w.WriteTextString(p.Value);
                break;
        }

        w.WriteEndMap();
    }

    internal static FsResponseData? ReadFrom(CborReader r)
    {
        if (CborFields.IsNull(r))
        {
            return null;
        }

        FsResponseData? data = null;
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "Stat": data = new Stat(FsEntryInfo.ReadFrom(r)); return true;
                case "List": data = new List(CborFields.ReadArray(r, FsEntryInfo.ReadFrom)); return true;
                case "Handle": data = new Handle(r.ReadUInt64()); return true;
                case "Path": data = new Path(r.ReadTextString()); return true;
                default: return false;
            }
        });
        return data;
    }
}

/// <summary><c>core.fs.response</c>: terminal result of a filesystem operation.</summary>
/// <param name="Ok">Whether it succeeded.</param>
/// <param name="Error">The guest's error text when it failed.</param>
/// <param name="Data">Result data, for operations that return some.</param>
public sealed record FsResponse(bool Ok, string? Error = null, FsResponseData? Data = null) : IAgentPayload<FsResponse>
{
    static string IAgentPayload<FsResponse>.WireType => MessageType.FsResponse;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(3);
        writer.WriteTextString("ok");
        writer.WriteBoolean(Ok);
        writer.WriteTextString("error");
        CborFields.WriteOptional(writer, Error);
        writer.WriteTextString("data");
        if (Data is null) writer.WriteNull(); else Data.WriteTo(writer);
        writer.WriteEndMap();
    }

    static FsResponse IAgentPayload<FsResponse>.ReadFrom(CborReader reader)
    {
        var ok = false;
        string? error = null;
        FsResponseData? data = null;
        CborFields.ReadMap(reader, key =>
        {
            switch (key)
            {
                case "ok": ok = reader.ReadBoolean(); return true;
                case "error": error = CborFields.ReadOptionalString(reader); return true;
                case "data": data = FsResponseData.ReadFrom(reader); return true;
                default: return false;
            }
        });
        return new FsResponse(ok, error, data);
    }
}

/// <summary><c>core.fs.data</c>: a chunk of file bytes, either direction; an empty chunk ends a write stream.</summary>
/// <param name="Data">The bytes.</param>
public sealed record FsData(ReadOnlyMemory<byte> Data) : IAgentPayload<FsData>
{
    static string IAgentPayload<FsData>.WireType => MessageType.FsData;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer) => DataPayload.Write(writer, Data.Span);

    static FsData IAgentPayload<FsData>.ReadFrom(CborReader reader) => new(DataPayload.Read(reader));
}
