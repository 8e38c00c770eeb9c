namespace Microsandbox.Xunit.V2.Sample;

/// <summary>Selects the "web" definition registered in <see cref="TestStartup"/>.</summary>
public sealed class WebSandbox : ISandboxDefinition
{
    public string? DefinitionName => "web";

    public SandboxBuilder Configure(SandboxBuilder builder) => builder.Env("EXTRA", "from the definition type");
}

/// <summary>A class fixture from the ready generic fixture and a named definition (xUnit v2 hands it the diagnostic sink).</summary>
public sealed class ClassFixtureTests(SandboxFixture<WebSandbox> fixture) : IClassFixture<SandboxFixture<WebSandbox>>
{
    [SandboxFact]
    public async Task Named_definition_and_definition_type_both_apply()
    {
        var result = await fixture.Sandbox.ShellAsync("echo $ROLE; echo $EXTRA; hostname");
        Assert.Equal("web\nfrom the definition type\nweb\n", result.Stdout);
    }

    [SandboxFact]
    public async Task Class_sandbox_keeps_state_between_its_tests()
    {
        // Both tests of the class run in one VM: whichever runs second finds the first one's file.
        await fixture.Sandbox.ShellAsync("echo x >> /tmp/visits");
        var visits = await fixture.Sandbox.ShellAsync("wc -l < /tmp/visits");
        Assert.Equal(0, visits.ExitCode);
        Assert.InRange(int.Parse(visits.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture), 1, 2);
    }
}
