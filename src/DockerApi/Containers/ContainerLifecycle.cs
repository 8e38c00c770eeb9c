using Microsandbox.DockerApi.Http;
using Microsandbox.Host;
using Microsandbox.Spec;
using Microsoft.Extensions.Logging;

namespace Microsandbox.DockerApi.Containers;

/// <summary>
/// Start, stop, kill, restart, wait and remove of containers, each under the container's gate. A started container
/// is a sandbox named after it; the server's shutdown token (not a client's request) governs the VM's life, so a
/// client that hangs up mid-start leaves either a tracked container or nothing.
/// </summary>
internal sealed class ContainerLifecycle(ContainerStore store, SandboxOptions options, TimeSpan? readyStateWait, CancellationToken shutdown)
{
    private readonly ILogger _logger = options.LoggerFactory.CreateLogger("Microsandbox.DockerApi.Containers");

    /// <summary>Starts the container; false when it already runs (Docker's 304).</summary>
    public async Task<bool> StartAsync(DockerContainer container, CancellationToken cancellationToken)
    {
        await container.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (container.Status == ContainerStatus.Running) return false;
            if (container.Sandbox is { } previous) await previous.RemoveAsync(shutdown).ConfigureAwait(false);
            // Docker creates a named volume on first use.
            foreach (var mount in container.Request.Mounts.Where(m => m.Type == "volume"))
                await Volumes.CreateAsync(mount.Source, options: options, cancellationToken: shutdown).ConfigureAwait(false);
            var builder = SandboxTranslation.Build(container, readyStateWait);
            var ports = SandboxTranslation.PublishedPorts(container).ToList();
            _logger.LogInformation("container {Name}: starting sandbox from {Image}", container.Name, container.Request.Image);
            Sandbox sandbox;
            try
            {
                sandbox = await Sandbox.CreateAsync(builder, options, shutdown).ConfigureAwait(false);
            }
            catch (MicrosandboxException ex)
            {
                container.MarkStartFailed(ex.Message);
                throw;
            }
            var published = new Dictionary<ContainerPort, (string, int)>();
            foreach (var (port, bind) in ports)
            {
                var protocol = port.Protocol == "udp" ? PortProtocol.Udp : PortProtocol.Tcp;
                published[port] = (bind.HostIp.Length == 0 ? "0.0.0.0" : bind.HostIp, sandbox.GetMappedPort(port.Port, protocol));
            }
            container.PendingArchives.Clear();
            container.MarkStarted(sandbox, published);
            _ = WatchAsync(container, sandbox);
            return true;
        }
        finally
        {
            container.Gate.Release();
        }
    }

    /// <summary>
    /// Stops a running container: its stop signal, then SIGKILL after <paramref name="timeout"/> (else the
    /// container's own stop timeout); false when it was not running (Docker's 304).
    /// </summary>
    public async Task<bool> StopAsync(DockerContainer container, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        await container.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (container.Status != ContainerStatus.Running || container.Sandbox is not { } sandbox) return false;
            container.StopSignalSent = Signals.Parse(container.Request.StopSignal ?? container.Image.Config.StopSignal ?? "SIGTERM") ?? Signals.Terminate;
            var stopping = sandbox.StopAsync(shutdown);
            if (timeout is { } t)
            {
                // The guest's power-off after the main process ends takes a moment of its own under emulation.
                var deadline = Task.Delay(t + options.StopTimeout, cancellationToken);
                if (await Task.WhenAny(stopping, deadline).ConfigureAwait(false) != stopping)
                {
                    container.StopSignalSent = Signals.Kill;
                    await sandbox.KillAsync(shutdown).ConfigureAwait(false);
                }
            }
            await stopping.ConfigureAwait(false);
            await container.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            container.Gate.Release();
        }
    }

    /// <summary>
    /// Sends a signal: SIGKILL kills the VM; the container's stop signal stops it gracefully. Others would need a
    /// signal channel to the main process the sandbox does not have, and are refused.
    /// </summary>
    public async Task KillAsync(DockerContainer container, string signal, CancellationToken cancellationToken)
    {
        var number = Signals.Parse(signal) ?? throw DockerApiException.BadRequest($"Invalid signal: {signal}");
        await container.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (container.Status != ContainerStatus.Running || container.Sandbox is not { } sandbox)
                throw DockerApiException.Conflict($"Cannot kill container: {container.Id}: Container {container.Id} is not running");
            var stopSignal = Signals.Parse(container.Request.StopSignal ?? container.Image.Config.StopSignal ?? "SIGTERM");
            if (number == Signals.Kill)
            {
                container.StopSignalSent = number;
                await sandbox.KillAsync(shutdown).ConfigureAwait(false);
            }
            else if (number == stopSignal)
            {
                container.StopSignalSent = number;
                await sandbox.StopAsync(shutdown).ConfigureAwait(false);
            }
            else
            {
                throw DockerApiException.NotImplemented($"signal {signal} (kill sends SIGKILL or the container's stop signal {Signals.Name(stopSignal ?? Signals.Terminate)})");
            }
            await container.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            container.Gate.Release();
        }
    }

    /// <summary>Removes a container; a running one only with <paramref name="force"/> (then it is killed first).</summary>
    public async Task RemoveAsync(DockerContainer container, bool force, CancellationToken cancellationToken)
    {
        await container.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (container.Status == ContainerStatus.Running && !force)
                throw DockerApiException.Conflict($"You cannot remove a running container {container.Id}. Stop the container before attempting removal or force remove");
            if (container.Sandbox is { } sandbox)
            {
                if (container.Status == ContainerStatus.Running)
                {
                    container.StopSignalSent = Signals.Kill;
                    await sandbox.KillAsync(shutdown).ConfigureAwait(false);
                }
                await sandbox.RemoveAsync(shutdown).ConfigureAwait(false);
            }
            store.Remove(container);
            container.MarkRemoved();
        }
        finally
        {
            container.Gate.Release();
        }
    }

    /// <summary>Stops and removes every container's sandbox (server shutdown).</summary>
    public async Task RemoveAllAsync()
    {
        await Task.WhenAll(store.All.Select(async c =>
        {
            try
            {
                if (c.Sandbox is { } sandbox) await sandbox.RemoveAsync(CancellationToken.None).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Shutdown removes what it can; one failure must not keep the other VMs running.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _logger.LogWarning(ex, "container {Name}: removing its sandbox at shutdown failed", c.Name);
            }
            store.Remove(c);
        })).ConfigureAwait(false);
    }

    private async Task WatchAsync(DockerContainer container, Sandbox sandbox)
    {
        try
        {
            await sandbox.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            var code = await sandbox.GetExitCodeAsync(CancellationToken.None).ConfigureAwait(false);
            // A signal ended the main process (or we killed the VM): Docker reports 128 + the signal.
            container.MarkExited(code is null or < 0 ? 128 + (container.StopSignalSent ?? Signals.Kill) : code.Value);
            _logger.LogInformation("container {Name}: exited with {Code}", container.Name, container.ExitCode);
            if (container.Request.AutoRemove && !shutdown.IsCancellationRequested)
            {
                // `docker run --rm` reads the output through an attach: its last lines must go out before the logs do.
                for (int i = 0; i < 100 && Volatile.Read(ref container.AttachedStreams) > 0; i++) await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
                await RemoveAsync(container, force: true, CancellationToken.None).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // A watcher that fails must still mark the container ended.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LogWarning(ex, "container {Name}: watching its sandbox failed", container.Name);
            container.MarkExited(128 + Signals.Kill);
        }
    }
}
