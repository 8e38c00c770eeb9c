namespace Microsandbox.Orchestration;

/// <summary>One line a guest command wrote, without its line terminator.</summary>
/// <param name="Stream">stdout or stderr.</param>
/// <param name="Text">The line, decoded as UTF-8.</param>
public sealed record OutputLine(OutputStream Stream, string Text);
