using Microsandbox.Orchestration;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Microsandbox.MSBuild;

/// <summary>Guest output lines as build messages at the chosen importance, posted to the task thread.</summary>
internal sealed class TaskLogSink(TaskLoggingHelper log, LogPump pump, MessageImportance stdout, MessageImportance stderr) : IOutputSink
{
    public void OnLine(OutputLine line)
    {
        var importance = line.Stream == OutputStream.Stdout ? stdout : stderr;
        pump.Post(() => log.LogMessage(importance, "{0}", line.Text));
    }
}
