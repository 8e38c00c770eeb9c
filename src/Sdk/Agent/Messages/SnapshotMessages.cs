using System.Formats.Cbor;
using Microsandbox.Agent.Cbor;

namespace Microsandbox.Agent;

/// <summary>
/// Wire names of the QEMU engine's ready-state snapshot messages. They are this project's extension, not upstream's
/// protocol (hence the <c>msb.</c> prefix and their absence from <see cref="MessageType.All"/>); native/CONTRACT.md
/// describes the exchange.
/// </summary>
internal static class SnapshotMessageType
{
    /// <summary>Sandbox process → guest: flush, answer <see cref="Prepared"/>, then read nothing but <see cref="Resume"/>.</summary>
    public const string Prepare = "msb.snapshot.prepare";
    /// <summary>Guest → sandbox process: the last frame before the save.</summary>
    public const string Prepared = "msb.snapshot.prepared";
    /// <summary>Sandbox process → guest, first frame after a save or a restore: the (new) identity; answered by <c>core.ready</c>.</summary>
    public const string Resume = "msb.snapshot.resume";
    /// <summary>Client → sandbox process (never forwarded): save this sandbox as its shape's ready-state template now.</summary>
    public const string Save = "msb.snapshot.save";
    /// <summary>Sandbox process → client: the template was saved.</summary>
    public const string Saved = "msb.snapshot.saved";
}

/// <summary><c>msb.snapshot.prepare</c>; an empty map.</summary>
internal sealed record SnapshotPrepare : IAgentPayload<SnapshotPrepare>
{
    static string IAgentPayload<SnapshotPrepare>.WireType => SnapshotMessageType.Prepare;

    public void WriteTo(CborWriter writer) => EmptyMap.Write(writer);

    static SnapshotPrepare IAgentPayload<SnapshotPrepare>.ReadFrom(CborReader reader)
    {
        CborFields.ReadEmpty(reader);
        return new SnapshotPrepare();
    }
}

/// <summary>
/// <c>msb.snapshot.resume</c>: the wall clock and fresh entropy a resumed guest cannot inherit, and the hostname of
/// the sandbox it now is (null keeps the current one).
/// </summary>
internal sealed record SnapshotResume(ulong UnixTimeNanos, byte[] Entropy, string? Hostname) : IAgentPayload<SnapshotResume>
{
    static string IAgentPayload<SnapshotResume>.WireType => SnapshotMessageType.Resume;

    /// <summary>A resume carrying the current host time and 32 random bytes.</summary>
    public static SnapshotResume Now(string? hostname) =>
        new(ClockSync.Now().UnixTimeNanos, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), hostname);

    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(Hostname is null ? 2 : 3);
        writer.WriteTextString("unix_time_nanos");
        writer.WriteUInt64(UnixTimeNanos);
        writer.WriteTextString("entropy");
        writer.WriteByteString(Entropy);
        if (Hostname is not null)
        {
            writer.WriteTextString("hostname");
            writer.WriteTextString(Hostname);
        }
        writer.WriteEndMap();
    }

    static SnapshotResume IAgentPayload<SnapshotResume>.ReadFrom(CborReader reader)
    {
        ulong nanos = 0;
        byte[] entropy = [];
        string? hostname = null;
        CborFields.ReadMap(reader, key =>
        {
            switch (key)
            {
                case "unix_time_nanos": nanos = reader.ReadUInt64(); return true;
                case "entropy": entropy = reader.ReadByteString(); return true;
                case "hostname": hostname = CborFields.ReadOptionalString(reader); return true;
                default: return false;
            }
        });
        return new SnapshotResume(nanos, entropy, hostname);
    }
}

/// <summary><c>msb.snapshot.save</c>; an empty map.</summary>
internal sealed record SnapshotSave : IAgentPayload<SnapshotSave>
{
    static string IAgentPayload<SnapshotSave>.WireType => SnapshotMessageType.Save;

    public void WriteTo(CborWriter writer) => EmptyMap.Write(writer);

    static SnapshotSave IAgentPayload<SnapshotSave>.ReadFrom(CborReader reader)
    {
        CborFields.ReadEmpty(reader);
        return new SnapshotSave();
    }
}

/// <summary><c>msb.snapshot.saved</c>: where the template went and how long the guest was paused for it.</summary>
internal sealed record SnapshotSaved(string Template, double PausedSeconds) : IAgentPayload<SnapshotSaved>
{
    static string IAgentPayload<SnapshotSaved>.WireType => SnapshotMessageType.Saved;

    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(2);
        writer.WriteTextString("template");
        writer.WriteTextString(Template);
        writer.WriteTextString("paused_secs");
        writer.WriteDouble(PausedSeconds);
        writer.WriteEndMap();
    }

    static SnapshotSaved IAgentPayload<SnapshotSaved>.ReadFrom(CborReader reader)
    {
        string template = "";
        double paused = 0;
        CborFields.ReadMap(reader, key =>
        {
            switch (key)
            {
                case "template": template = reader.ReadTextString(); return true;
                case "paused_secs": paused = reader.ReadDouble(); return true;
                default: return false;
            }
        });
        return new SnapshotSaved(template, paused);
    }
}
