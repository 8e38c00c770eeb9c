namespace Microsandbox.Cli.Commands;

/// <summary>The JSON shape of a sandbox in <c>inspect</c> and <c>ls --format json</c>.</summary>
internal static class SandboxJson
{
    public static object Of(SandboxInfo info) => new
    {
        name = info.Name,
        status = info.Status.ToString(),
        ephemeral = info.Ephemeral,
        image = info.Image,
        pid = info.Pid,
        exit_code = info.ExitCode,
        termination_reason = info.TerminationReason?.ToString(),
        health = info.Health == HealthStatus.None ? null : info.Health.ToString().ToLowerInvariant(),
        ports = info.Ports,
        labels = info.Labels,
        created_at = info.CreatedAt,
    };
}
