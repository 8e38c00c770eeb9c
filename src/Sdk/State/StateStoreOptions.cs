using Microsoft.Extensions.Logging;

namespace Microsandbox.State;

/// <summary>How <see cref="StateStore.OpenAsync(string, StateStoreOptions, CancellationToken)"/> opens the catalog.</summary>
public sealed class StateStoreOptions
{
    /// <summary>
    /// How long SQLite waits for another process (msb, a sandbox process) to release its write lock before a
    /// statement fails. msb's own default is 5 seconds.
    /// </summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Path of a real <c>msb</c> binary. When set, <c>msb ls --format json</c> runs once against the same home
    /// before the catalog is opened, so msb itself creates or migrates it; when null, a missing catalog is
    /// created here with msb 0.6.18's exact schema and migration rows.
    /// </summary>
    public string? MsbPath { get; init; }

    /// <summary>How long the optional <see cref="MsbPath"/> migration run may take.</summary>
    public TimeSpan MsbMigrationTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Where open/migration decisions are logged; null for no logging.</summary>
    public ILogger? Logger { get; init; }
}
