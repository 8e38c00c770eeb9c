using Microsoft.Extensions.Logging;

namespace Microsandbox.Agent;

/// <summary>Settings of an <see cref="AgentClient"/>.</summary>
public sealed record AgentClientOptions
{
    /// <summary>
    /// How long to keep retrying the connect while the relay socket is missing or refusing (it can appear before its
    /// listener is ready). Default 10 s.
    /// </summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long to wait for the relay's id range and cached <c>core.ready</c> frame. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Frames buffered per exec session before the client stops reading the socket (back-pressure reaches the guest
    /// instead of memory growing). Default 64.
    /// </summary>
    public int ExecBufferFrames { get; init; } = 64;

    /// <summary>Frames buffered per file read (each up to 3 MiB). Default 4.</summary>
    public int FsBufferFrames { get; init; } = 4;

    /// <summary>Where the client logs; null logs nothing.</summary>
    public ILogger? Logger { get; init; }
}
