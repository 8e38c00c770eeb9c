using System.Net;

namespace Microsandbox.DockerApi;

/// <summary>Where a <see cref="DockerApiServer"/> listens and how its containers run.</summary>
public sealed record DockerApiServerOptions
{
    /// <summary>The unix socket to serve on. Default: <c>docker.sock</c> in the state directory (<c>$MSB_HOME</c>).</summary>
    public string? SocketPath { get; init; }

    /// <summary>
    /// Also serve on TCP (clients use <c>DOCKER_HOST=tcp://HOST:PORT</c>). Off the loopback interface this requires
    /// <see cref="TlsDirectory"/>: plain TCP is refused there.
    /// </summary>
    public IPEndPoint? TcpEndpoint { get; init; }

    /// <summary>
    /// Mutual TLS for <see cref="TcpEndpoint"/>, in Docker's convention: the directory holds <c>ca.pem</c> (the CA that
    /// signs client certificates), <c>cert.pem</c> and <c>key.pem</c> (the server's). Clients without a certificate
    /// from that CA are rejected.
    /// </summary>
    public string? TlsDirectory { get; init; }

    /// <summary>
    /// Ready-state templates for containers (off by default): a container that publishes TCP ports and mounts nothing
    /// from the host starts once those ports listen in the guest (not as soon as its process runs, as with Docker);
    /// the first of a shape is then saved running, and later containers of the same shape (image, command,
    /// environment, files, ports) resume from it with the service already up. A port that never listens fails the
    /// start after <see cref="ReadyStateWaitTimeout"/>.
    /// </summary>
    public bool ReadyStateSnapshots { get; init; }

    /// <summary>How long a ready-state start waits for the published ports to listen. Default 3 minutes.</summary>
    public TimeSpan ReadyStateWaitTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>How the containers' sandboxes run (state directory, engine, logging).</summary>
    public SandboxOptions Sandbox { get; init; } = SandboxOptions.Default;

    /// <summary>The socket path these options resolve to.</summary>
    public string ResolvedSocketPath => Path.GetFullPath(SocketPath ?? Path.Combine(Sandbox.StateDirectory, "docker.sock"));

    /// <summary>Checks the values; the message names the setting and the rule.</summary>
    /// <exception cref="InvalidConfigException">A setting is invalid.</exception>
    public void Validate()
    {
        Sandbox.Validate();
        if (ReadyStateWaitTimeout <= TimeSpan.Zero) throw new InvalidConfigException($"ReadyStateWaitTimeout must be positive, got {ReadyStateWaitTimeout}");
        if (SocketPath is { Length: 0 }) throw new InvalidConfigException("SocketPath must not be empty");
        if (System.Text.Encoding.UTF8.GetByteCount(ResolvedSocketPath) > 107)
            throw new InvalidConfigException($"SocketPath '{ResolvedSocketPath}' is longer than a unix socket path may be (107 bytes)");
        if (TcpEndpoint is { } tcp && TlsDirectory is null && !IPAddress.IsLoopback(tcp.Address))
            throw new InvalidConfigException($"TcpEndpoint {tcp}: plain TCP is served on a loopback address only; set TlsDirectory (ca.pem, cert.pem, key.pem) to serve {tcp.Address} with mutual TLS");
        if (TlsDirectory is { } dir)
        {
            if (TcpEndpoint is null) throw new InvalidConfigException("TlsDirectory is set but TcpEndpoint is not: TLS applies to the TCP listener");
            foreach (var file in new[] { "ca.pem", "cert.pem", "key.pem" })
            {
                if (!File.Exists(Path.Combine(dir, file))) throw new InvalidConfigException($"TlsDirectory '{dir}' has no {file} (Docker's convention: ca.pem, cert.pem, key.pem)");
            }
        }
    }
}
