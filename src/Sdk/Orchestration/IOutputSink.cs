namespace Microsandbox.Orchestration;

/// <summary>
/// Receives a guest command's output line by line as it arrives. Build tools adapt it to their own log
/// (an MSBuild task log, a Nuke/console logger); <see cref="OutputSink"/> has the common adapters.
/// </summary>
public interface IOutputSink
{
    /// <summary>Called once per complete line (and once for a trailing line without a terminator), in order per stream.</summary>
    void OnLine(OutputLine line);
}
