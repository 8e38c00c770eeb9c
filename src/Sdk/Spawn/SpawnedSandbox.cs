using Microsandbox.Host;

namespace Microsandbox.Spawn;

/// <summary>
/// A started sandbox process as its launcher sees it. While this object holds the watchdog pipe's write end,
/// an attached sandbox process keeps running; closing it (or this process dying) tells the sandbox process to stop.
/// </summary>
public sealed class SpawnedSandbox : IDisposable
{
    private int _parentWatchWriteFd;

    internal SpawnedSandbox(ChildProcess process, int parentWatchWriteFd, string agentSocketPath)
    {
        Process = process;
        _parentWatchWriteFd = parentWatchWriteFd;
        AgentSocketPath = agentSocketPath;
    }

    internal ChildProcess Process { get; }

    /// <summary>The sandbox process id (also the pid in its run row).</summary>
    public int Pid => Process.Pid;

    /// <summary>The relay socket the sandbox process serves.</summary>
    public string AgentSocketPath { get; }

    /// <summary>True once the sandbox process has exited (and been reaped).</summary>
    public bool HasExited => Process.TryReap();

    /// <summary>Waits for the sandbox process to exit.</summary>
    public Task<int> WaitForExitAsync(CancellationToken cancellationToken = default) => Process.WaitForExitAsync(cancellationToken);

    /// <summary>Sends a signal to the sandbox process.</summary>
    public void Signal(int signal) => Process.Signal(signal);

    /// <summary>
    /// Tells the sandbox process its creator lets go (a 1 byte on the watchdog pipe, upstream's detach signal), then
    /// closes the pipe: the sandbox keeps running after this process exits.
    /// </summary>
    public void Detach()
    {
        if (_parentWatchWriteFd < 0) return;
        unsafe
        {
            byte one = 1;
            _ = Libc.write(_parentWatchWriteFd, &one, 1);
        }
        ReleaseWatchdog();
    }

    /// <summary>Closes the watchdog pipe: an attached sandbox process then shuts its VM down.</summary>
    public void ReleaseWatchdog() => FileDescriptor.Close(ref _parentWatchWriteFd);

    /// <summary>Releases the watchdog (see <see cref="ReleaseWatchdog"/>).</summary>
    public void Dispose() => ReleaseWatchdog();
}
