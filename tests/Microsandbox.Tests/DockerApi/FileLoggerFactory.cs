using Microsoft.Extensions.Logging;

namespace Microsandbox.Tests.DockerApi;

/// <summary>
/// Logs of a shared fixture, which outlives any one test's output: appended to a file the failing test names.
/// </summary>
public sealed class FileLoggerFactory(string path) : ILoggerFactory
{
    private readonly object _gate = new();

    public string Path { get; } = path;

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    /// <summary>The last <paramref name="lines"/> lines, for a failure message.</summary>
    public string Tail(int lines = 40)
    {
        lock (_gate)
        {
            return File.Exists(Path) ? string.Join('\n', File.ReadLines(Path).TakeLast(lines)) : "";
        }
    }

    private void Write(string line)
    {
        lock (_gate) File.AppendAllText(Path, line + "\n");
    }

    private sealed class FileLogger(FileLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && (!category.StartsWith("Microsoft", StringComparison.Ordinal) || category.StartsWith("Microsoft.AspNetCore.Hosting", StringComparison.Ordinal))
            || logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            factory.Write($"{DateTime.UtcNow:HH:mm:ss.fff} [{logLevel}] {category}: {formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}");
        }
    }
}
