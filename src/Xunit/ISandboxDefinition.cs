namespace Microsandbox.Xunit;

/// <summary>
/// Names what a <see cref="SandboxFixture{TDefinition}"/> boots: a definition registered with
/// <c>AddSandbox(name, …)</c>, code of its own, or both (the registered definition is applied first).
/// </summary>
public interface ISandboxDefinition
{
    /// <summary>The registered definition to start from, or null for the defaults alone.</summary>
    string? DefinitionName => null;

    /// <summary>Settings added after the registered definition.</summary>
    SandboxBuilder Configure(SandboxBuilder builder) => builder;
}

/// <summary>The defaults of <c>AddMicrosandbox</c> and nothing else: <c>SandboxFixture&lt;DefaultSandbox&gt;</c>.</summary>
public sealed class DefaultSandbox : ISandboxDefinition;
