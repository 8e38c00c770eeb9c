namespace Microsandbox.Xunit;

/// <summary>
/// A named recipe for test sandboxes, registered with <c>services.AddSandbox("db", b => …)</c>. The builder it receives
/// already carries a unique name and the default image; the recipe adds the rest.
/// </summary>
/// <param name="Name">What fixtures and tests call it by.</param>
/// <param name="Configure">Adds the definition's settings to a builder.</param>
public sealed record SandboxDefinition(string Name, Func<SandboxBuilder, SandboxBuilder> Configure);
