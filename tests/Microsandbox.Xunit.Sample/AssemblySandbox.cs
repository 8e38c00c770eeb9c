using Xunit.Sdk;

namespace Microsandbox.Xunit.Sample;

/// <summary>An assembly fixture: one sandbox for every test class that asks for it.</summary>
public sealed class AssemblySandbox(IMessageSink sink) : SandboxFixture(sink)
{
    protected override SandboxBuilder Configure(SandboxBuilder builder) => builder.Env("SCOPE", "assembly");
}
