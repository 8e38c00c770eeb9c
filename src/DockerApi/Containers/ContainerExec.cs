using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsandbox.DockerApi.Http;

namespace Microsandbox.DockerApi.Containers;

/// <summary>An exec instance (<c>POST /containers/{id}/exec</c>): what to run, and once started how it went.</summary>
internal sealed class ContainerExec(string id, DockerContainer container, ExecCommand command, bool attachStdin, bool attachStdout, bool attachStderr)
{
    private int _started;

    public string Id { get; } = id;

    public DockerContainer Container { get; } = container;

    public ExecCommand Command { get; } = command;

    public bool AttachStdin { get; } = attachStdin;

    public bool AttachStdout { get; } = attachStdout;

    public bool AttachStderr { get; } = attachStderr;

    public bool Running { get; private set; }

    /// <summary>Null until the command ends.</summary>
    public int? ExitCode { get; private set; }

    public int Pid { get; private set; }

    /// <summary>Marks the exec started; an exec runs once, as with Docker.</summary>
    public void Begin()
    {
        if (Interlocked.Exchange(ref _started, 1) == 1) throw DockerApiException.Conflict($"exec {Id} has already been started");
        Running = true;
    }

    public void Started(int pid) => Pid = pid;

    public void End(int exitCode)
    {
        ExitCode = exitCode;
        Running = false;
    }
}

/// <summary>The exec instances of this server's containers, by ID.</summary>
internal sealed class ExecStore
{
    private readonly ConcurrentDictionary<string, ContainerExec> _byId = new(StringComparer.Ordinal);

    public ContainerExec Add(DockerContainer container, ExecCommand command, bool attachStdin, bool attachStdout, bool attachStderr)
    {
        // A removed container's execs go with it, so the table stays as large as the live containers' execs.
        foreach (var stale in _byId.Values.Where(e => e.Container.Removed.IsCompleted)) _byId.TryRemove(stale.Id, out _);
        var exec = new ContainerExec(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), container, command, attachStdin, attachStdout, attachStderr);
        _byId[exec.Id] = exec;
        return exec;
    }

    public ContainerExec Get(string id) =>
        _byId.TryGetValue(id, out var exec) ? exec : throw DockerApiException.NotFound($"No such exec instance: {id}");
}
