using Microsandbox.DockerApi.Images;

namespace Microsandbox.DockerApi.Containers;

/// <summary>
/// One container: its create request, its image, and the sandbox that runs it once started. The sandbox carries the
/// container's name, so <c>microsandbox ls</c> and <c>msb ls</c> see it. Lifecycle changes hold <see cref="Gate"/>.
/// </summary>
internal sealed class DockerContainer(string id, string name, ContainerCreateRequest request, LocalImage image)
{
    private TaskCompletionSource _exited = NewExitSignal();
    private readonly TaskCompletionSource _removed = NewExitSignal();

    public string Id { get; } = id;

    /// <summary>The name without Docker's leading slash; also the sandbox's name.</summary>
    public string Name { get; } = name;

    public DateTimeOffset Created { get; } = DateTimeOffset.UtcNow;

    public ContainerCreateRequest Request { get; } = request;

    public LocalImage Image { get; } = image;

    /// <summary>Serialises start, stop, kill, restart and remove of this container.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    public ContainerStatus Status { get; private set; } = ContainerStatus.Created;

    public Sandbox? Sandbox { get; private set; }

    public DateTimeOffset? StartedAt { get; private set; }

    public DateTimeOffset? FinishedAt { get; private set; }

    public int ExitCode { get; private set; }

    /// <summary>Why the last start failed, as Docker's <c>State.Error</c>.</summary>
    public string Error { get; private set; } = "";

    /// <summary>How many times the container was started.</summary>
    public int RestartCount { get; private set; } = -1;

    /// <summary>Published ports once started: container port → host address and port.</summary>
    public IReadOnlyDictionary<ContainerPort, (string HostIp, int HostPort)> Ports { get; private set; } =
        new Dictionary<ContainerPort, (string, int)>();

    /// <summary>Archives uploaded before start (guest directory, tar bytes), copied in before the main process starts.</summary>
    public List<(string Path, byte[] Tar)> PendingArchives { get; } = [];

    /// <summary>Attach streams open on this container: an auto-removed container waits for them (bounded) so they can send its last lines.</summary>
    public int AttachedStreams;

    /// <summary>Set while a stop or kill of ours is under way, so its signal exit is not taken for a crash.</summary>
    public int? StopSignalSent { get; set; }

    /// <summary>Completes when the current (or next) run ends.</summary>
    public Task Exited => _exited.Task;

    /// <summary>Completes when the container is removed.</summary>
    public Task Removed => _removed.Task;

    public void MarkRemoved()
    {
        _exited.TrySetResult();
        _removed.TrySetResult();
    }

    public void MarkStarted(Sandbox sandbox, IReadOnlyDictionary<ContainerPort, (string, int)> ports)
    {
        Sandbox = sandbox;
        Ports = ports;
        Status = ContainerStatus.Running;
        StartedAt = DateTimeOffset.UtcNow;
        FinishedAt = null;
        ExitCode = 0;
        Error = "";
        StopSignalSent = null;
        RestartCount++;
        if (_exited.Task.IsCompleted) _exited = NewExitSignal();
    }

    public void MarkStartFailed(string error)
    {
        Error = error;
        ExitCode = 128;
        Status = ContainerStatus.Created;
    }

    public void MarkExited(int exitCode)
    {
        Status = ContainerStatus.Exited;
        FinishedAt = DateTimeOffset.UtcNow;
        ExitCode = exitCode;
        _exited.TrySetResult();
    }

    private static TaskCompletionSource NewExitSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
