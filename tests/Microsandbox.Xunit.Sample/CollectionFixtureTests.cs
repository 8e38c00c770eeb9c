namespace Microsandbox.Xunit.Sample;

/// <summary>Two classes in one collection use the same sandbox.</summary>
[Collection(SharedCollection.Name)]
public sealed class CollectionFixtureFirstTests(CollectionSandbox fixture)
{
    [SandboxFact]
    public async Task Collection_sandbox_has_its_workdir_and_environment()
    {
        var result = await fixture.Sandbox.ShellAsync("pwd; echo $SCOPE", TestContext.Current.CancellationToken);
        Assert.Equal("/tmp\ncollection\n", result.Stdout);
    }
}

[Collection(SharedCollection.Name)]
public sealed class CollectionFixtureSecondTests(CollectionSandbox fixture)
{
    [SandboxFact]
    public async Task Same_sandbox_serves_every_class_of_the_collection()
    {
        // The collection's classes share one VM: its name is the one the fixture booted, and it is still running.
        Assert.True(fixture.Sandbox.IsRunning);
        var result = await fixture.Sandbox.ExecAsync("hostname", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("sample-", fixture.Sandbox.Name, StringComparison.Ordinal);
    }
}
