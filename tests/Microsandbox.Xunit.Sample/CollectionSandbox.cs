using Xunit.Sdk;

namespace Microsandbox.Xunit.Sample;

/// <summary>A collection fixture: one sandbox shared by the classes of <see cref="SharedCollection"/>.</summary>
public sealed class CollectionSandbox(IMessageSink sink) : SandboxFixture(sink)
{
    protected override SandboxBuilder Configure(SandboxBuilder builder) => builder.Workdir("/tmp").Env("SCOPE", "collection");
}

[CollectionDefinition(Name)]
public sealed class SharedCollection : ICollectionFixture<CollectionSandbox>
{
    public const string Name = "shared sandbox collection";
}
