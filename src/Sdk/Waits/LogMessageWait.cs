using System.Text.RegularExpressions;

namespace Microsandbox;

/// <summary>The main process's output (stdout, stderr) has matched a pattern n times, counted from its first line.</summary>
internal sealed record LogMessageWait(Regex Pattern, int Times) : WaitStrategy
{
    public override string Description => $"log message /{Pattern}/" + (Times == 1 ? "" : $" ×{Times}");

    internal override async Task UntilAsync(Sandbox sandbox, CancellationToken cancellationToken)
    {
        int seen = 0;
        await foreach (var entry in sandbox.FollowLogsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (Pattern.IsMatch(entry.Text) && ++seen >= Times) return;
        }
        throw new WaitNeverHolds($"the log ended after {seen} of {Times} matches");
    }
}
