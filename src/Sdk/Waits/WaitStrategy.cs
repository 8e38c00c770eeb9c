using Microsandbox.Config;
using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>
/// Something that must hold before <see cref="Sandbox.CreateAsync(SandboxBuilder, CancellationToken)"/> returns,
/// made with <see cref="Wait"/> and added with <see cref="SandboxBuilder.WaitFor"/>. Each has its own timeout
/// (default 60 s, <see cref="WithTimeout"/>).
/// </summary>
public abstract record WaitStrategy
{
    /// <summary>The default time a wait may take.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private protected WaitStrategy()
    {
    }

    /// <summary>How long the wait may take before create fails.</summary>
    public TimeSpan Timeout { get; private init; } = DefaultTimeout;

    /// <summary>What is waited for, as messages name it (<c>port 6379/tcp</c>, <c>log message /Ready/ ×1</c>…).</summary>
    public abstract string Description { get; }

    /// <summary>This wait with another timeout.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public WaitStrategy WithTimeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        return this with { Timeout = timeout };
    }

    /// <summary>Refuses, before anything boots, a wait the sandbox cannot satisfy.</summary>
    internal virtual void Validate(SandboxSpec spec, SandboxConfig config)
    {
    }

    /// <summary>Returns once the condition holds; <see cref="WaitFailedException"/>-worthy failures throw <see cref="WaitNeverHolds"/>.</summary>
    internal abstract Task UntilAsync(Sandbox sandbox, CancellationToken cancellationToken);

    /// <inheritdoc />
    public override string ToString() => Description;

    /// <summary>Polls <paramref name="check"/> (every 100 ms at first, backing off to 500 ms) until it is true.</summary>
    private protected static async Task PollAsync(Func<CancellationToken, Task<bool>> check, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (!await check(cancellationToken).ConfigureAwait(false))
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(500, delay.TotalMilliseconds * 1.5));
        }
    }
}

/// <summary>A wait whose condition can no longer hold (an unhealthy check): fail now, not at the timeout.</summary>
internal sealed class WaitNeverHolds(string reason) : Exception(reason);
