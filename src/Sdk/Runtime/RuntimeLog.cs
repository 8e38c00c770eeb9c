using System.Globalization;

namespace Microsandbox.Runtime;

/// <summary>Timestamped lines on the sandbox process's stderr, which is <c>logs/runtime.log</c> once startup is reported.</summary>
internal sealed class RuntimeLog(string sandboxName)
{
    private readonly object _gate = new();

    /// <summary>Writes one line.</summary>
    public void Info(string message) => Write("INFO", message);

    /// <summary>Writes one warning line.</summary>
    public void Warn(string message) => Write("WARN", message);

    /// <summary>Writes one error line.</summary>
    public void Error(string message) => Write("ERROR", message);

    private void Write(string level, string message)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.ffffffZ} {level} sandbox={sandboxName} {message}");
        lock (_gate)
        {
            Console.Error.WriteLine(line);
            Console.Error.Flush();
        }
    }
}
