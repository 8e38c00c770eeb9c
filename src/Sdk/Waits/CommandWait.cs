namespace Microsandbox;

/// <summary>A command in the guest that exits 0, run again until it does.</summary>
internal sealed record CommandWait(IReadOnlyList<string> Argv) : WaitStrategy
{
    public override string Description => $"command `{string.Join(' ', Argv)}`";

    internal override Task UntilAsync(Sandbox sandbox, CancellationToken cancellationToken) =>
        PollAsync(async ct =>
        {
            try
            {
                return (await sandbox.ExecAsync(new ExecCommand(Argv[0]) { Arguments = [.. Argv.Skip(1)] }, ct).ConfigureAwait(false)).ExitCode == 0;
            }
            catch (ExecFailedException e)
            {
                // A program that does not exist never will: say so now.
                throw new WaitNeverHolds(e.Message);
            }
        }, cancellationToken);
}
