using Microsandbox.Config;
using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>The health check reports healthy (<see cref="Sandbox.Health"/>); unhealthy fails at once.</summary>
internal sealed record HealthcheckWait : WaitStrategy
{
    public override string Description => "healthcheck";

    internal override void Validate(SandboxSpec spec, SandboxConfig config)
    {
        if (config.Healthcheck is not { IsDisabled: false } check)
            throw new InvalidConfigException("wait for healthcheck: the image declares no HEALTHCHECK and the builder sets none (SandboxBuilder.Healthcheck)");
        _ = check.Argv();
        if (!config.StartupCommandRequested)
            throw new InvalidConfigException("wait for healthcheck: a health check watches the main process; add SandboxBuilder.MainProcess()");
    }

    internal override async Task UntilAsync(Sandbox sandbox, CancellationToken cancellationToken)
    {
        var status = await sandbox.WaitForHealthAsync(cancellationToken).ConfigureAwait(false);
        if (status == HealthStatus.Unhealthy)
            throw new WaitNeverHolds($"the health check reported unhealthy: {sandbox.LastHealthOutput}");
    }
}
