namespace Microsandbox.Agent;

/// <summary>One event of a running command (closed set).</summary>
public abstract record ExecEvent
{
    private ExecEvent() { }

    /// <summary>The command started.</summary>
    /// <param name="Pid">Guest process id.</param>
    public sealed record Started(uint Pid) : ExecEvent;

    /// <summary>Bytes written to stdout (or to the terminal in tty mode).</summary>
    /// <param name="Data">The bytes.</param>
    public sealed record Stdout(ReadOnlyMemory<byte> Data) : ExecEvent;

    /// <summary>Bytes written to stderr.</summary>
    /// <param name="Data">The bytes.</param>
    public sealed record Stderr(ReadOnlyMemory<byte> Data) : ExecEvent;

    /// <summary>A stdin write failed in the guest (e.g. the command closed its stdin); the command keeps running.</summary>
    /// <param name="Error">The guest's report.</param>
    public sealed record StdinError(ExecStdinError Error) : ExecEvent;

    /// <summary>The command exited; the last event.</summary>
    /// <param name="Code">Exit code.</param>
    public sealed record Exited(int Code) : ExecEvent;

    /// <summary>The command never ran; the last event.</summary>
    /// <param name="Error">The guest's report.</param>
    public sealed record Failed(ExecFailed Error) : ExecEvent;
}
