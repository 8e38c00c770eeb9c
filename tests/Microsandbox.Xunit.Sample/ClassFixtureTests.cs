namespace Microsandbox.Xunit.Sample;

/// <summary>Selects the "web" definition registered in <see cref="TestStartup"/>.</summary>
public sealed class WebSandbox : ISandboxDefinition
{
    public string? DefinitionName => "web";

    public SandboxBuilder Configure(SandboxBuilder builder) => builder.Env("EXTRA", "from the definition type");
}

/// <summary>A class fixture from the ready generic fixture and a named definition.</summary>
public sealed class ClassFixtureTests(SandboxFixture<WebSandbox> fixture) : IClassFixture<SandboxFixture<WebSandbox>>
{
    [SandboxFact]
    public async Task Named_definition_and_definition_type_both_apply()
    {
        var result = await fixture.Sandbox.ShellAsync("echo $ROLE; echo $EXTRA; hostname", TestContext.Current.CancellationToken);
        Assert.Equal("web\nfrom the definition type\nweb\n", result.Stdout);
    }

    [SandboxFact]
    public async Task Class_sandbox_serves_a_web_page_over_loopback_inside_the_guest()
    {
        // busybox httpd inside the guest; fetched from the guest itself, no host port needed.
        var result = await fixture.Sandbox.ShellAsync(
            "mkdir -p /tmp/www && echo hi > /tmp/www/index.html && (httpd -p 8080 -h /tmp/www || true) && sleep 0.3 && wget -qO- http://127.0.0.1:8080/",
            TestContext.Current.CancellationToken);
        Assert.Equal("hi\n", result.Stdout);
    }
}
