using Microsoft.Extensions.Logging;

namespace Microsandbox.Agent;

/// <summary>Settings of an <see cref="AgentRelay"/>.</summary>
public sealed record AgentRelayOptions
{
    /// <summary>How long <see cref="AgentRelay.WaitReadyAsync"/> waits for the guest's <c>core.ready</c>. Default 180 s (upstream).</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>Frames queued per client before routing waits for it (upstream: 64).</summary>
    public int ClientQueueFrames { get; init; } = 64;

    /// <summary>Client frames queued towards the guest before clients wait (upstream: 256).</summary>
    public int GuestQueueFrames { get; init; } = 256;

    /// <summary>
    /// How long guest→client routing may wait on one client whose queue is full before that client is disconnected,
    /// so a client that stops reading cannot stall the others for longer than this. Default 30 s;
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits forever (upstream's behaviour).
    /// </summary>
    public TimeSpan SlowClientTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often to send <c>core.clock.sync</c> to the guest (first one at start). Null disables it. Default 60 s (upstream).</summary>
    public TimeSpan? ClockSyncInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Clock for activity timestamps.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where the relay logs; null logs nothing.</summary>
    public ILogger? Logger { get; init; }
}
