using System.Runtime.CompilerServices;
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
    public Task<IReadOnlyList<LogEntry>> GetLogsAsync(LogOptions? options = null, CancellationToken cancellationToken = default)
    {
        var filter = options ?? new LogOptions();
        return Task.Run(() => filter.Apply(ExecLog.ReadAll(LogDirectory)), cancellationToken);
    }

    /// <summary>
    /// The main process's output lines as they are written: those already kept first, then each new one, until the
    /// sandbox stops (and every line is read) or <paramref name="cancellationToken"/> is cancelled.
    /// <see cref="LogOptions.Tail"/> does not apply to a follow.
    /// </summary>
    public async IAsyncEnumerable<LogEntry> FollowLogsAsync(LogOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var filter = options ?? new LogOptions();
        await foreach (var entry in ExecLog.FollowAsync(LogDirectory, () => _process.HasExited, cancellationToken).ConfigureAwait(false))
        {
            if (filter.Includes(entry)) yield return entry;
        }
    }
}
