using System.Formats.Cbor;
using Microsandbox.Agent.Cbor;

namespace Microsandbox.Agent;

/// <summary>A POSIX resource limit applied to a process with <c>setrlimit()</c>.</summary>
/// <param name="Resource">Lowercase resource name: <c>nofile</c>, <c>nproc</c>, <c>as</c>, <c>cpu</c>, ...</param>
/// <param name="Soft">Soft limit.</param>
/// <param name="Hard">Hard limit.</param>
public sealed record ExecRlimit(string Resource, ulong Soft, ulong Hard)
{
    internal void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(3);
        writer.WriteTextString("resource");
        writer.WriteTextString(Resource);
        writer.WriteTextString("soft");
        writer.WriteUInt64(Soft);
        writer.WriteTextString("hard");
        writer.WriteUInt64(Hard);
        writer.WriteEndMap();
    }

    internal static ExecRlimit ReadFrom(CborReader reader)
    {
        var resource = "";
        ulong soft = 0, hard = 0;
        CborFields.ReadMap(reader, key =>
        {
            switch (key)
            {
                case "resource": resource = reader.ReadTextString(); return true;
                case "soft": soft = reader.ReadUInt64(); return true;
                case "hard": hard = reader.ReadUInt64(); return true;
                default: return false;
            }
        });
        return new ExecRlimit(resource, soft, hard);
    }
}

/// <summary><c>core.exec.request</c>: run a command in the guest (opens a session on its correlation id).</summary>
/// <param name="Cmd">Program to run (path, or a name looked up on PATH).</param>
public sealed record ExecRequest(string Cmd) : IAgentPayload<ExecRequest>
{
    /// <summary>Arguments after the program.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>Environment entries as <c>KEY=value</c>.</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>Working directory; null uses the sandbox default.</summary>
    public string? Cwd { get; init; }

    /// <summary>Guest user override (<c>USER[:GROUP]</c> or <c>UID[:GID]</c>); null uses the sandbox default.</summary>
    public string? User { get; init; }

    /// <summary>Whether to run the command on a pseudo-terminal.</summary>
    public bool Tty { get; init; }

    /// <summary>Initial terminal rows (used when <see cref="Tty"/> is set).</summary>
    public ushort Rows { get; init; } = 24;

    /// <summary>Initial terminal columns (used when <see cref="Tty"/> is set).</summary>
    public ushort Cols { get; init; } = 80;

    /// <summary>Resource limits for the spawned process.</summary>
    public IReadOnlyList<ExecRlimit> Rlimits { get; init; } = [];

    static string IAgentPayload<ExecRequest>.WireType => MessageType.ExecRequest;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(9);
        writer.WriteTextString("cmd");
        writer.WriteTextString(Cmd);
        writer.WriteTextString("args");
        CborFields.WriteStrings(writer, Args);
        writer.WriteTextString("env");
        CborFields.WriteStrings(writer, Env);
        writer.WriteTextString("cwd");
        CborFields.WriteOptional(writer, Cwd);
        writer.WriteTextString("user");
        CborFields.WriteOptional(writer, User);
        writer.WriteTextString("tty");
        writer.WriteBoolean(Tty);
        writer.WriteTextString("rows");
        writer.WriteUInt32(Rows);
        writer.WriteTextString("cols");
        writer.WriteUInt32(Cols);
        writer.WriteTextString("rlimits");
        CborFields.WriteArray(writer, Rlimits, static (w, r) => r.WriteTo(w));
        writer.WriteEndMap();
    }

    static ExecRequest IAgentPayload<ExecRequest>.ReadFrom(CborReader reader)
    {
        string? cmd = null;
        List<string> args = [], env = [];
        string? cwd = null, user = null;
        var tty = false;
        ushort rows = 24, cols = 80;
        List<ExecRlimit> rlimits = [];
        CborFields.ReadMap(reader, key =>
        {
            switch (key)
            {
                case "cmd": cmd = reader.ReadTextString(); return true;
                case "args": args = CborFields.ReadStrings(reader); return true;
                case "env": env = CborFields.ReadStrings(reader); return true;
                case "cwd": cwd = CborFields.ReadOptionalString(reader); return true;
                case "user": user = CborFields.ReadOptionalString(reader); return true;
                case "tty": tty = reader.ReadBoolean(); return true;
                case "rows": rows = checked((ushort)reader.ReadUInt32()); return true;
                case "cols": cols = checked((ushort)reader.ReadUInt32()); return true;
                case "rlimits": rlimits = CborFields.ReadArray(reader, ExecRlimit.ReadFrom); return true;
                default: return false;
            }
        });
        return new ExecRequest(cmd ?? throw new CborContentException("core.exec.request lacks cmd"))
        {
            Args = args, Env = env, Cwd = cwd, User = user, Tty = tty, Rows = rows, Cols = cols, Rlimits = rlimits,
        };
    }
}

/// <summary><c>core.exec.started</c>: the command is running.</summary>
/// <param name="Pid">Guest process id.</param>
public sealed record ExecStarted(uint Pid) : IAgentPayload<ExecStarted>
{
    static string IAgentPayload<ExecStarted>.WireType => MessageType.ExecStarted;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(1);
        writer.WriteTextString("pid");
        writer.WriteUInt32(Pid);
        writer.WriteEndMap();
    }

    static ExecStarted IAgentPayload<ExecStarted>.ReadFrom(CborReader reader)
    {
        uint pid = 0;
        CborFields.ReadMap(reader, key =>
        {
            if (key != "pid") return false;
            pid = reader.ReadUInt32();
            return true;
        });
        return new ExecStarted(pid);
    }
}

/// <summary><c>core.exec.stdin</c>: bytes for the command's stdin; an empty buffer closes stdin.</summary>
/// <param name="Data">The bytes.</param>
public sealed record ExecStdin(ReadOnlyMemory<byte> Data) : IAgentPayload<ExecStdin>
{
    static string IAgentPayload<ExecStdin>.WireType => MessageType.ExecStdin;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer) => DataPayload.Write(writer, Data.Span);

    static ExecStdin IAgentPayload<ExecStdin>.ReadFrom(CborReader reader) => new(DataPayload.Read(reader));
}

/// <summary><c>core.exec.stdout</c>: bytes the command wrote to stdout (or the terminal, in tty mode).</summary>
/// <param name="Data">The bytes.</param>
public sealed record ExecStdout(ReadOnlyMemory<byte> Data) : IAgentPayload<ExecStdout>
{
    static string IAgentPayload<ExecStdout>.WireType => MessageType.ExecStdout;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer) => DataPayload.Write(writer, Data.Span);

    static ExecStdout IAgentPayload<ExecStdout>.ReadFrom(CborReader reader) => new(DataPayload.Read(reader));
}

/// <summary><c>core.exec.stderr</c>: bytes the command wrote to stderr.</summary>
/// <param name="Data">The bytes.</param>
public sealed record ExecStderr(ReadOnlyMemory<byte> Data) : IAgentPayload<ExecStderr>
{
    static string IAgentPayload<ExecStderr>.WireType => MessageType.ExecStderr;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer) => DataPayload.Write(writer, Data.Span);

    static ExecStderr IAgentPayload<ExecStderr>.ReadFrom(CborReader reader) => new(DataPayload.Read(reader));
}

/// <summary><c>core.exec.stdin.error</c>: a stdin write failed (commonly EPIPE); the session goes on.</summary>
/// <param name="Errno">errno of the failed write, if known.</param>
/// <param name="ErrnoName">errno name such as <c>EPIPE</c>, if known.</param>
/// <param name="Message">Human-readable description.</param>
public sealed record ExecStdinError(int? Errno, string? ErrnoName, string Message) : IAgentPayload<ExecStdinError>
{
    static string IAgentPayload<ExecStdinError>.WireType => MessageType.ExecStdinError;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(3);
        writer.WriteTextString("errno");
        CborFields.WriteOptional(writer, Errno);
        writer.WriteTextString("errno_name");
        CborFields.WriteOptional(writer, ErrnoName);
        writer.WriteTextString("message");
        writer.WriteTextString(Message);
        writer.WriteEndMap();
    }

    static ExecStdinError IAgentPayload<ExecStdinError>.ReadFrom(CborReader reader)
    {
        int? errno = null;
        string? name = null;
        var message = "";
        CborFields.ReadMap(reader, key =>
        {
            switch (key)
            {
                case "errno": errno = CborFields.ReadOptionalInt32(reader); return true;
                case "errno_name": name = CborFields.ReadOptionalString(reader); return true;
                case "message": message = reader.ReadTextString(); return true;
                default: return false;
            }
        });
        return new ExecStdinError(errno, name, message);
    }
}

/// <summary><c>core.exec.exited</c>: the command exited (terminal).</summary>
/// <param name="Code">Exit code.</param>
public sealed record ExecExited(int Code) : IAgentPayload<ExecExited>
{
    static string IAgentPayload<ExecExited>.WireType => MessageType.ExecExited;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(1);
        writer.WriteTextString("code");
        writer.WriteInt32(Code);
        writer.WriteEndMap();
    }

    static ExecExited IAgentPayload<ExecExited>.ReadFrom(CborReader reader)
    {
        var code = 0;
        CborFields.ReadMap(reader, key =>
        {
            if (key != "code") return false;
            code = reader.ReadInt32();
            return true;
        });
        return new ExecExited(code);
    }
}

/// <summary>Why a command could not be started (snake_case on the wire).</summary>
public enum ExecFailureKind
{
    /// <summary>Binary not found on PATH or at the given path.</summary>
    NotFound,
    /// <summary>Binary found but not executable (EACCES/EPERM).</summary>
    PermissionDenied,
    /// <summary>The kernel cannot run the file (bad ELF, missing interpreter; ENOEXEC).</summary>
    NotExecutable,
    /// <summary>Working directory missing, not a directory, or not enterable.</summary>
    BadCwd,
    /// <summary>Argument or environment list too large, path too long, interior NUL, ...</summary>
    BadArgs,
    /// <summary>A resource limit prevented the spawn.</summary>
    ResourceLimit,
    /// <summary>The user or group could not be set up.</summary>
    UserSetupFailed,
    /// <summary>The guest kernel could not allocate memory.</summary>
    OutOfMemory,
    /// <summary>Terminal allocation failed (tty mode).</summary>
    PtySetupFailed,
    /// <summary>Anything else.</summary>
    Other,
}

/// <summary><c>core.exec.failed</c>: the command never ran (terminal).</summary>
/// <param name="Kind">Coarse cause.</param>
/// <param name="Errno">errno, when the failure was a syscall.</param>
/// <param name="ErrnoName">errno name such as <c>ENOENT</c>.</param>
/// <param name="Message">Human-readable description (always set).</param>
/// <param name="Stage">Which step failed, e.g. <c>execvp</c>.</param>
public sealed record ExecFailed(ExecFailureKind Kind, int? Errno, string? ErrnoName, string Message, string? Stage)
    : IAgentPayload<ExecFailed>
{
    static string IAgentPayload<ExecFailed>.WireType => MessageType.ExecFailed;

    /// <summary>The snake_case wire name of a failure kind.</summary>
    public static string WireName(ExecFailureKind kind) => kind switch
    {
        ExecFailureKind.NotFound => "not_found",
        ExecFailureKind.PermissionDenied => "permission_denied",
        ExecFailureKind.NotExecutable => "not_executable",
        ExecFailureKind.BadCwd => "bad_cwd",
        ExecFailureKind.BadArgs => "bad_args",
        ExecFailureKind.ResourceLimit => "resource_limit",
        ExecFailureKind.UserSetupFailed => "user_setup_failed",
        ExecFailureKind.OutOfMemory => "out_of_memory",
        ExecFailureKind.PtySetupFailed => "pty_setup_failed",
        _ => "other",
    };

    /// <summary>Parses a snake_case failure kind; unknown names become <see cref="ExecFailureKind.Other"/>.</summary>
    public static ExecFailureKind ParseKind(string wire) => wire switch
    {
        "not_found" => ExecFailureKind.NotFound,
        "permission_denied" => ExecFailureKind.PermissionDenied,
        "not_executable" => ExecFailureKind.NotExecutable,
        "bad_cwd" => ExecFailureKind.BadCwd,
        "bad_args" => ExecFailureKind.BadArgs,
        "resource_limit" => ExecFailureKind.ResourceLimit,
        "user_setup_failed" => ExecFailureKind.UserSetupFailed,
        "out_of_memory" => ExecFailureKind.OutOfMemory,
        "pty_setup_failed" => ExecFailureKind.PtySetupFailed,
        _ => ExecFailureKind.Other,
    };

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(5);
        writer.WriteTextString("kind");
        writer.WriteTextString(WireName(Kind));
        writer.WriteTextString("errno");
        CborFields.WriteOptional(writer, Errno);
        writer.WriteTextString("errno_name");
        CborFields.WriteOptional(writer, ErrnoName);
        writer.WriteTextString("message");
        writer.WriteTextString(Message);
        writer.WriteTextString("stage");
        CborFields.WriteOptional(writer, Stage);
        writer.WriteEndMap();
    }

    static ExecFailed IAgentPayload<ExecFailed>.ReadFrom(CborReader reader)
    {
        var kind = ExecFailureKind.Other;
        int? errno = null;
        string? name = null, stage = null;
        var message = "";
        CborFields.ReadMap(reader, key =>
        {
            switch (key)
            {
                case "kind": kind = ParseKind(reader.ReadTextString()); return true;
                case "errno": errno = CborFields.ReadOptionalInt32(reader); return true;
                case "errno_name": name = CborFields.ReadOptionalString(reader); return true;
                case "message": message = reader.ReadTextString(); return true;
                case "stage": stage = CborFields.ReadOptionalString(reader); return true;
                default: return false;
            }
        });
        return new ExecFailed(kind, errno, name, message, stage);
    }
}

/// <summary><c>core.exec.resize</c>: resize the command's terminal.</summary>
/// <param name="Rows">Rows.</param>
/// <param name="Cols">Columns.</param>
public sealed record ExecResize(ushort Rows, ushort Cols) : IAgentPayload<ExecResize>
{
    static string IAgentPayload<ExecResize>.WireType => MessageType.ExecResize;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(2);
        writer.WriteTextString("rows");
        writer.WriteUInt32(Rows);
        writer.WriteTextString("cols");
        writer.WriteUInt32(Cols);
        writer.WriteEndMap();
    }

    static ExecResize IAgentPayload<ExecResize>.ReadFrom(CborReader reader)
    {
        ushort rows = 0, cols = 0;
        CborFields.ReadMap(reader, key =>
        {
            switch (key)
            {
                case "rows": rows = checked((ushort)reader.ReadUInt32()); return true;
                case "cols": cols = checked((ushort)reader.ReadUInt32()); return true;
                default: return false;
            }
        });
        return new ExecResize(rows, cols);
    }
}

/// <summary><c>core.exec.signal</c>: send a signal to the command.</summary>
/// <param name="Signal">Signal number (e.g. 15 for SIGTERM, 9 for SIGKILL).</param>
public sealed record ExecSignal(int Signal) : IAgentPayload<ExecSignal>
{
    static string IAgentPayload<ExecSignal>.WireType => MessageType.ExecSignal;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(1);
        writer.WriteTextString("signal");
        writer.WriteInt32(Signal);
        writer.WriteEndMap();
    }

    static ExecSignal IAgentPayload<ExecSignal>.ReadFrom(CborReader reader)
    {
        var signal = 0;
        CborFields.ReadMap(reader, key =>
        {
            if (key != "signal") return false;
            signal = reader.ReadInt32();
            return true;
        });
        return new ExecSignal(signal);
    }
}

/// <summary>The shared <c>{"data": bytes}</c> shape of stdin/stdout/stderr/fs data payloads.</summary>
internal static class DataPayload
{
    public static void Write(CborWriter writer, ReadOnlySpan<byte> data)
    {
        writer.WriteStartMap(1);
        writer.WriteTextString("data");
        writer.WriteByteString(data);
        writer.WriteEndMap();
    }

    public static byte[] Read(CborReader reader)
    {
        byte[] data = [];
        CborFields.ReadMap(reader, key =>
        {
            if (key != "data") return false;
            data = CborFields.ReadBytes(reader);
            return true;
        });
        return data;
    }
}
