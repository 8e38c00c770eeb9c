using Microsandbox.Runtime;

namespace Microsandbox;

public sealed partial class Sandbox
{
    /// <summary>
    /// The main process's output lines (<see cref="SandboxBuilder.MainProcess"/>), timestamped, oldest first; readable
    /// after the sandbox stopped until it is removed. Kept bounded: 10 MiB per file, three rotated files.
    /// </summary>
    /// <param name="options">Time window, tail and sources; default: all of the program's own output.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    public Task<IReadOnlyList<LogEntry>> GetLogsAsync(LogOptions? options = null, CancellationToken cancellationToken = default) =>
        ExecLog.ReadAsync(LogDirectory, options, cancellationToken);

    /// <summary>
    /// The main process's output lines as they are written: those already kept first, then each new one, until the
    /// sandbox stops (and every line is read) or <paramref name="cancellationToken"/> is cancelled.
    /// <see cref="LogOptions.Tail"/> does not apply to a follow.
    /// </summary>
    public IAsyncEnumerable<LogEntry> FollowLogsAsync(LogOptions? options = null, CancellationToken cancellationToken = default) =>
        ExecLog.FollowAsync(LogDirectory, () => _process.HasExited, options, cancellationToken);
}
