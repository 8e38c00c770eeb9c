using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Microsoft.Extensions.Logging;
using ILogger = Microsoft.Extensions.Logging.ILogger;

namespace Microsandbox.MSBuild;

/// <summary>
/// SDK progress (booting, stopping) as low-importance build messages; SDK warnings and errors become normal
/// messages, not build warnings, so a consumer treating warnings as errors is not failed by diagnostics.
/// </summary>
internal sealed class TaskLoggerFactory(TaskLoggingHelper log, LogPump pump) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new TaskLogger(log, pump);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class TaskLogger(TaskLoggingHelper log, LogPump pump) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var text = "microsandbox: " + formatter(state, exception) + (exception is null ? "" : ": " + exception.Message);
            var importance = logLevel >= LogLevel.Warning ? MessageImportance.Normal : MessageImportance.Low;
            pump.Post(() => log.LogMessage(importance, text));
        }
    }
}
