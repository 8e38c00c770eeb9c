using Xunit.Abstractions;

namespace Microsandbox.Xunit.V2.Sample;

/// <summary>A collection fixture: one sandbox shared by the classes of <see cref="SharedCollection"/>.</summary>
public sealed class CollectionSandbox(IMessageSink sink) : SandboxFixture(sink)
{
    protected override SandboxBuilder Configure(SandboxBuilder builder) => builder.Workdir("/tmp").Env("SCOPE", "collection");
}

[CollectionDefinition(Name)]
public sealed class SharedCollection : ICollectionFixture<CollectionSandbox>
{
    public const string Name = "shared sandbox collection (v2)";
}

/// <summary>Two classes in one collection use the same sandbox.</summary>
[Collection(SharedCollection.Name)]
public sealed class CollectionFixtureFirstTests(CollectionSandbox fixture)
{
    [SandboxFact]
    public async Task Collection_sandbox_has_its_workdir_and_environment()
    {
        var result = await fixture.Sandbox.ShellAsync("pwd; echo $SCOPE");
        Assert.Equal("/tmp\ncollection\n", result.Stdout);
    }
}

[Collection(SharedCollection.Name)]
public sealed class CollectionFixtureSecondTests(CollectionSandbox fixture)
{
    [SandboxFact]
    public async Task Same_sandbox_serves_every_class_of_the_collection()
    {
        Assert.True(fixture.Sandbox.IsRunning);
        var result = await fixture.Sandbox.ExecAsync("hostname");
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("v2sample-", fixture.Sandbox.Name, StringComparison.Ordinal);
    }
}
