using Microsoft.Extensions.Logging;

namespace Microsandbox.Orchestration;

/// <summary>Ready-made <see cref="IOutputSink"/> adapters: a callback, an <see cref="IProgress{T}"/>, an <see cref="ILogger"/>.</summary>
public static class OutputSink
{
    /// <summary>A sink that drops every line.</summary>
    public static IOutputSink None { get; } = new CallbackSink(_ => { });

    /// <summary>A sink that calls <paramref name="onLine"/> for every line.</summary>
    public static IOutputSink FromCallback(Action<OutputLine> onLine) =>
        new CallbackSink(onLine ?? throw new ArgumentNullException(nameof(onLine)));

    /// <summary>A sink that reports every line to <paramref name="progress"/>.</summary>
    public static IOutputSink FromProgress(IProgress<OutputLine> progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        return new CallbackSink(progress.Report);
    }

    /// <summary>A sink that logs stdout lines at <paramref name="stdoutLevel"/> and stderr lines at <paramref name="stderrLevel"/>.</summary>
    public static IOutputSink FromLogger(ILogger logger, LogLevel stdoutLevel = LogLevel.Information, LogLevel stderrLevel = LogLevel.Warning)
    {
        ArgumentNullException.ThrowIfNull(logger);
        return new CallbackSink(line =>
        {
            var level = line.Stream == OutputStream.Stdout ? stdoutLevel : stderrLevel;
#pragma warning disable CA2254 // The guest's text is the message itself, not a template.
            logger.Log(level, "{Line}", line.Text);
#pragma warning restore CA2254
        });
    }

    private sealed class CallbackSink(Action<OutputLine> onLine) : IOutputSink
    {
        public void OnLine(OutputLine line) => onLine(line);
    }
}
