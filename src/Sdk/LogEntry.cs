using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>One line the sandbox's main process wrote (or a lifecycle line of the runtime's own), as kept in <c>exec.log</c>.</summary>
/// <param name="Timestamp">When the host received it.</param>
/// <param name="Source">stdout, stderr, output (a terminal session) or system (the runtime's start and exit lines).</param>
/// <param name="Text">The line, without its newline.</param>
public sealed record LogEntry(DateTimeOffset Timestamp, LogSource Source, string Text)
{
    /// <inheritdoc />
    public override string ToString() => $"{Timestamp:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} {Source.ToString().ToLowerInvariant()} {Text}";
}
