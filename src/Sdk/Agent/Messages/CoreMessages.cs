using System.Formats.Cbor;
using Microsandbox.Agent.Cbor;

namespace Microsandbox.Agent;

/// <summary><c>core.ready</c>: the guest agent finished initialising. Timings are <c>CLOCK_BOOTTIME</c> nanoseconds.</summary>
/// <param name="BootTimeNs">Boot time captured at the start of the agent's main.</param>
/// <param name="InitTimeNs">Time spent in guest init (mounts).</param>
/// <param name="ReadyTimeNs">Boot time just before this message was sent.</param>
/// <param name="AgentVersion">The agent's product version; empty when unknown (omitted on the wire when empty).</param>
public sealed record Ready(ulong BootTimeNs, ulong InitTimeNs, ulong ReadyTimeNs, string AgentVersion = "")
    : IAgentPayload<Ready>
{
    static string IAgentPayload<Ready>.WireType => MessageType.Ready;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        var hasVersion = AgentVersion.Length > 0;
        writer.WriteStartMap(hasVersion ? 4 : 3);
        writer.WriteTextString("boot_time_ns");
        writer.WriteUInt64(BootTimeNs);
        writer.WriteTextString("init_time_ns");
        writer.WriteUInt64(InitTimeNs);
        writer.WriteTextString("ready_time_ns");
        writer.WriteUInt64(ReadyTimeNs);
        if (hasVersion)
        {
            writer.WriteTextString("agent_version");
            writer.WriteTextString(AgentVersion);
        }

        writer.WriteEndMap();
    }

    static Ready IAgentPayload<Ready>.ReadFrom(CborReader reader)
    {
        ulong boot = 0, init = 0, ready = 0;
        var version = "";
        CborFields.ReadMap(reader, key =>
        {
            switch (key)
            {
                case "boot_time_ns": boot = reader.ReadUInt64(); return true;
                case "init_time_ns": init = reader.ReadUInt64(); return true;
                case "ready_time_ns": ready = reader.ReadUInt64(); return true;
                case "agent_version": version = CborFields.ReadOptionalString(reader) ?? ""; return true;
                default: return false;
            }
        });
        return new Ready(boot, init, ready, version);
    }
}

/// <summary>A guest user and group resolved by the agent.</summary>
/// <param name="Uid">Default user id for commands.</param>
/// <param name="Gid">Default group id for commands.</param>
public sealed record ResolvedUser(uint Uid, uint Gid)
{
    internal void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(2);
        writer.WriteTextString("uid");
        writer.WriteUInt32(Uid);
        writer.WriteTextString("gid");
        writer.WriteUInt32(Gid);
        writer.WriteEndMap();
    }

    internal static ResolvedUser ReadFrom(CborReader reader)
    {
        uint uid = 0, gid = 0;
        CborFields.ReadMap(reader, key =>
        {
            switch (key)
            {
                case "uid": uid = reader.ReadUInt32(); return true;
                case "gid": gid = reader.ReadUInt32(); return true;
                default: return false;
            }
        });
        return new ResolvedUser(uid, gid);
    }
}

/// <summary><c>core.init.resolved</c>: init-time facts the guest reports before user mounts; the host answers <see cref="InitAck"/>.</summary>
/// <param name="DefaultUser">The default user commands run as.</param>
public sealed record InitResolved(ResolvedUser DefaultUser) : IAgentPayload<InitResolved>
{
    static string IAgentPayload<InitResolved>.WireType => MessageType.InitResolved;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(1);
        writer.WriteTextString("default_user");
        DefaultUser.WriteTo(writer);
        writer.WriteEndMap();
    }

    static InitResolved IAgentPayload<InitResolved>.ReadFrom(CborReader reader)
    {
        ResolvedUser? user = null;
        CborFields.ReadMap(reader, key =>
        {
            if (key != "default_user") return false;
            user = ResolvedUser.ReadFrom(reader);
            return true;
        });
        return new InitResolved(user ?? throw new CborContentException("core.init.resolved lacks default_user"));
    }
}

/// <summary><c>core.init.ack</c>: the host consumed <see cref="InitResolved"/>. Encoded as an empty map.</summary>
public sealed record InitAck : IAgentPayload<InitAck>
{
    static string IAgentPayload<InitAck>.WireType => MessageType.InitAck;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer) => EmptyMap.Write(writer);

    static InitAck IAgentPayload<InitAck>.ReadFrom(CborReader reader)
    {
        CborFields.ReadEmpty(reader);
        return new InitAck();
    }
}

/// <summary><c>core.ping</c>: reachability check; does not refresh the idle timer. Encoded as an empty map.</summary>
public sealed record Ping : IAgentPayload<Ping>
{
    static string IAgentPayload<Ping>.WireType => MessageType.Ping;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer) => EmptyMap.Write(writer);

    static Ping IAgentPayload<Ping>.ReadFrom(CborReader reader)
    {
        CborFields.ReadEmpty(reader);
        return new Ping();
    }
}

/// <summary><c>core.pong</c>: answer to <see cref="Ping"/>. Encoded as an empty map.</summary>
public sealed record Pong : IAgentPayload<Pong>
{
    static string IAgentPayload<Pong>.WireType => MessageType.Pong;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer) => EmptyMap.Write(writer);

    static Pong IAgentPayload<Pong>.ReadFrom(CborReader reader)
    {
        CborFields.ReadEmpty(reader);
        return new Pong();
    }
}

/// <summary><c>core.touch</c>: explicitly refresh the sandbox idle timer. Encoded as an empty map.</summary>
public sealed record Touch : IAgentPayload<Touch>
{
    static string IAgentPayload<Touch>.WireType => MessageType.Touch;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer) => EmptyMap.Write(writer);

    static Touch IAgentPayload<Touch>.ReadFrom(CborReader reader)
    {
        CborFields.ReadEmpty(reader);
        return new Touch();
    }
}

/// <summary><c>core.touched</c>: answer to <see cref="Touch"/>.</summary>
/// <param name="ActivitySeq">The guest's activity sequence after recording the touch.</param>
public sealed record Touched(ulong ActivitySeq) : IAgentPayload<Touched>
{
    static string IAgentPayload<Touched>.WireType => MessageType.Touched;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(1);
        writer.WriteTextString("activity_seq");
        writer.WriteUInt64(ActivitySeq);
        writer.WriteEndMap();
    }

    static Touched IAgentPayload<Touched>.ReadFrom(CborReader reader)
    {
        ulong seq = 0;
        CborFields.ReadMap(reader, key =>
        {
            if (key != "activity_seq") return false;
            seq = reader.ReadUInt64();
            return true;
        });
        return new Touched(seq);
    }
}

/// <summary><c>core.clock.sync</c>: the host asks the guest to step its wall clock.</summary>
/// <param name="UnixTimeNanos">Host Unix time in nanoseconds.</param>
public sealed record ClockSync(ulong UnixTimeNanos) : IAgentPayload<ClockSync>
{
    static string IAgentPayload<ClockSync>.WireType => MessageType.ClockSync;

    /// <summary>A sync message carrying the current host time.</summary>
    public static ClockSync Now() =>
        new((ulong)(DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100);

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(1);
        writer.WriteTextString("unix_time_nanos");
        writer.WriteUInt64(UnixTimeNanos);
        writer.WriteEndMap();
    }

    static ClockSync IAgentPayload<ClockSync>.ReadFrom(CborReader reader)
    {
        ulong nanos = 0;
        CborFields.ReadMap(reader, key =>
        {
            if (key != "unix_time_nanos") return false;
            nanos = reader.ReadUInt64();
            return true;
        });
        return new ClockSync(nanos);
    }
}

/// <summary>
/// <c>core.shutdown</c>: the host asks the guest to stop. Upstream sends it with id 0 and the unit payload, which
/// ciborium encodes as CBOR null (<c>0xf6</c>).
/// </summary>
public sealed record Shutdown : IAgentPayload<Shutdown>
{
    static string IAgentPayload<Shutdown>.WireType => MessageType.Shutdown;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer) => writer.WriteNull();

    static Shutdown IAgentPayload<Shutdown>.ReadFrom(CborReader reader)
    {
        CborFields.ReadEmpty(reader);
        return new Shutdown();
    }
}

/// <summary><c>core.relay.client.disconnected</c>: the relay tells the guest which client id range went away.</summary>
/// <param name="IdStart">First id of the client's range.</param>
/// <param name="IdEndExclusive">Exclusive end of the client's range.</param>
public sealed record RelayClientDisconnected(uint IdStart, uint IdEndExclusive) : IAgentPayload<RelayClientDisconnected>
{
    static string IAgentPayload<RelayClientDisconnected>.WireType => MessageType.RelayClientDisconnected;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(2);
        writer.WriteTextString("id_start");
        writer.WriteUInt32(IdStart);
        writer.WriteTextString("id_end_exclusive");
        writer.WriteUInt32(IdEndExclusive);
        writer.WriteEndMap();
    }

    static RelayClientDisconnected IAgentPayload<RelayClientDisconnected>.ReadFrom(CborReader reader)
    {
        uint start = 0, end = 0;
        CborFields.ReadMap(reader, key =>
        {
            switch (key)
            {
                case "id_start": start = reader.ReadUInt32(); return true;
                case "id_end_exclusive": end = reader.ReadUInt32(); return true;
                default: return false;
            }
        });
        return new RelayClientDisconnected(start, end);
    }
}

/// <summary>Machine-readable <c>core.error</c> categories (snake_case on the wire).</summary>
public static class CoreErrorKind
{
    /// <summary>The envelope could not be decoded.</summary>
    public const string MalformedMessage = "malformed_message";
    /// <summary>The message type is unknown to the peer.</summary>
    public const string UnsupportedMessageType = "unsupported_message_type";
    /// <summary>The message needs a newer generation than the peer speaks.</summary>
    public const string UnsupportedProtocolGeneration = "unsupported_protocol_generation";
    /// <summary>The frame flags do not match the message type.</summary>
    public const string InvalidFlags = "invalid_flags";
    /// <summary>The payload could not be decoded or failed validation.</summary>
    public const string InvalidPayload = "invalid_payload";
    /// <summary>The message refers to an unknown, closed or incompatible session.</summary>
    public const string InvalidSession = "invalid_session";
}

/// <summary><c>core.error</c>: a recoverable protocol error for one correlation id (terminal).</summary>
/// <param name="Kind">One of <see cref="CoreErrorKind"/>.</param>
/// <param name="Message">Human-readable diagnostic.</param>
/// <param name="OffendingType">Wire type involved, when known (omitted on the wire when null).</param>
public sealed record CoreError(string Kind, string Message, string? OffendingType = null) : IAgentPayload<CoreError>
{
    static string IAgentPayload<CoreError>.WireType => MessageType.CoreError;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(OffendingType is null ? 2 : 3);
        writer.WriteTextString("kind");
        writer.WriteTextString(Kind);
        writer.WriteTextString("message");
        writer.WriteTextString(Message);
        if (OffendingType is not null)
        {
            writer.WriteTextString("offending_type");
            writer.WriteTextString(OffendingType);
        }

        writer.WriteEndMap();
    }

    static CoreError IAgentPayload<CoreError>.ReadFrom(CborReader reader)
    {
        string kind = "", message = "";
        string? offending = null;
        CborFields.ReadMap(reader, key =>
        {
            switch (key)
            {
                case "kind": kind = reader.ReadTextString(); return true;
                case "message": message = reader.ReadTextString(); return true;
                case "offending_type": offending = CborFields.ReadOptionalString(reader); return true;
                default: return false;
            }
        });
        return new CoreError(kind, message, offending);
    }
}

internal static class EmptyMap
{
    public static void Write(CborWriter writer)
    {
        writer.WriteStartMap(0);
        writer.WriteEndMap();
    }
}
