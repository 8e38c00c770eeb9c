using System.Collections.Concurrent;

namespace Microsandbox.MSBuild;

/// <summary>
/// Carries log calls made on thread-pool threads (guest output, SDK progress) back to the task's own thread, where
/// MSBuild expects them, while the task waits for its asynchronous work.
/// </summary>
internal sealed class LogPump
{
    private readonly BlockingCollection<Action> _queue = new();

    /// <summary>Queues <paramref name="log"/> to run on the task thread.</summary>
    public void Post(Action log)
    {
        try
        {
            _queue.Add(log);
        }
        catch (InvalidOperationException)
        {
            // The task already returned; MSBuild would reject a late log call anyway.
        }
    }

    /// <summary>Runs queued log calls on this thread until <paramref name="work"/> completes, then the rest, then returns its result.</summary>
    public T Run<T>(Task<T> work)
    {
        while (!work.IsCompleted)
        {
            if (_queue.TryTake(out var log, 50)) log();
        }
        _queue.CompleteAdding();
        while (_queue.TryTake(out var log)) log();
        return work.GetAwaiter().GetResult();
    }
}
