using Microsoft.Extensions.Logging;

namespace Microsandbox.Xunit;

/// <summary>
/// A logger factory whose destination can change while the sandbox lives: a pooled sandbox logs to the pool's
/// diagnostic messages while it boots and to the output of the test that holds it afterwards.
/// </summary>
internal sealed class LogRouter : ILoggerFactory
{
    private readonly LogLevel _minimum;
    private volatile Action<string> _target;

    public LogRouter(Action<string> target, LogLevel minimum)
    {
        _target = target;
        _minimum = minimum;
    }

    /// <summary>Where lines go now.</summary>
    public Action<string> Target
    {
        get => _target;
        set => _target = value;
    }

    public ILogger CreateLogger(string categoryName) => new RoutedLogger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private void Write(string line)
    {
        try
        {
            _target(line);
        }
        catch (InvalidOperationException)
        {
            // The test whose output this was has finished; its output helper refuses further lines.
        }
    }

    private sealed class RoutedLogger(LogRouter router, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= router._minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var text = $"[{DateTime.Now:HH:mm:ss.fff} {Short(logLevel)}] {category}: {formatter(state, exception)}";
            if (exception is not null) text += " — " + exception.Message;
            router.Write(text);
        }

        private static string Short(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }
}
