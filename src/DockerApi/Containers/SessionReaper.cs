using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Microsandbox.DockerApi.Containers;

/// <summary>
/// Ryuk's job, done by the server: Testcontainers names its session on every request (<c>x-tc-sid</c>) and labels
/// its containers with it. For clients on the unix socket the kernel tells which process sent each request
/// (<c>SO_PEERCRED</c>); once every process seen for a session has exited, that session's containers are removed,
/// as Ryuk removes them when the test process's connection drops. Clients over TCP are not tracked (their process
/// is on another machine): their containers go when the server exits.
/// </summary>
internal sealed class SessionReaper(ContainerStore store, ContainerLifecycle lifecycle, ILogger logger) : IAsyncDisposable
{
    /// <summary>The header Testcontainers sends with its session ID.</summary>
    public const string SessionHeader = "x-tc-sid";

    private static readonly string[] SessionLabels = ["org.testcontainers.session-id", "org.testcontainers.resource-reaper-session"];
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<int, bool>> _sessions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    /// <summary>How often dead sessions are looked for.</summary>
    public static TimeSpan Interval { get; } = TimeSpan.FromSeconds(1);

    public void Start() => _loop = Task.Run(LoopAsync);

    /// <summary>Records that <paramref name="socket"/>'s peer process works for <paramref name="session"/>.</summary>
    public void Observe(string session, Socket? socket)
    {
        if (socket is not { AddressFamily: AddressFamily.Unix } || session.Length is 0 or > 128) return;
        if (PeerPid(socket) is not { } pid) return;
        _sessions.GetOrAdd(session, _ => new ConcurrentDictionary<int, bool>())[pid] = true;
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            foreach (var (session, pids) in _sessions)
            {
                if (pids.Keys.Any(Alive)) continue;
                _sessions.TryRemove(session, out _);
                var orphans = store.All.Where(c => SessionLabels.Any(l => c.Request.Labels.TryGetValue(l, out var v) && v == session)).ToList();
                if (orphans.Count == 0) continue;
                logger.LogInformation("Testcontainers session {Session} ended (its processes exited): removing its {Count} container(s)", session, orphans.Count);
                foreach (var container in orphans)
                {
                    try
                    {
                        await lifecycle.RemoveAsync(container, force: true, _stop.Token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is MicrosandboxException or Http.DockerApiException or IOException)
                    {
                        logger.LogWarning(ex, "removing container {Name} of ended session {Session} failed", container.Name, session);
                    }
                }
            }
        }
    }

    private static bool Alive(int pid) => Directory.Exists($"/proc/{pid}");

    // struct ucred { pid_t pid; uid_t uid; gid_t gid; } from getsockopt(SOL_SOCKET, SO_PEERCRED).
    private static int? PeerPid(Socket socket)
    {
        const int SolSocket = 1, SoPeerCred = 17;
        try
        {
            Span<byte> credentials = stackalloc byte[12];
            return socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials) >= 4 ? MemoryMarshal.Read<int>(credentials) : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null) await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
