namespace Microsandbox.Config;

/// <summary>
/// An image's <c>HEALTHCHECK</c> (OCI/Docker config <c>Healthcheck</c>), with Docker's defaults for what it leaves
/// out: every 30 s, 30 s timeout, unhealthy after 3 consecutive failures, no start period.
/// </summary>
public sealed record ImageHealthcheck
{
    /// <summary><c>["CMD", prog, args…]</c>, <c>["CMD-SHELL", script]</c> or <c>["NONE"]</c> (disabled).</summary>
    public IReadOnlyList<string> Test { get; init; } = [];

    /// <summary>Time between checks.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one check may run before it counts as failed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time after start during which failures do not count.</summary>
    public TimeSpan StartPeriod { get; init; } = TimeSpan.Zero;

    /// <summary>Consecutive failures that make the service unhealthy.</summary>
    public int Retries { get; init; } = 3;

    /// <summary>Whether the check is switched off (<c>NONE</c> or no test).</summary>
    public bool IsDisabled => Test.Count == 0 || Test[0] == "NONE";

    /// <summary>The check as a guest command line; null when disabled.</summary>
    /// <exception cref="InvalidConfigException">The test is neither <c>CMD</c> nor <c>CMD-SHELL</c> form.</exception>
    public IReadOnlyList<string>? Argv(string shell = "/bin/sh")
    {
        if (IsDisabled) return null;
        return Test[0] switch
        {
            "CMD" when Test.Count > 1 => [.. Test.Skip(1)],
            "CMD-SHELL" when Test.Count == 2 => [shell, "-c", Test[1]],
            _ => throw new InvalidConfigException($"healthcheck: test {System.Text.Json.JsonSerializer.Serialize(Test)} is not [\"CMD\", program, args…], [\"CMD-SHELL\", script] or [\"NONE\"]"),
        };
    }
}
