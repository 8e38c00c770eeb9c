namespace Microsandbox.Xunit.Sample;

/// <summary>Each test gets its own fresh sandbox from the pre-booted pool.</summary>
public sealed class PerTestIsolationTests : SandboxTest
{
    protected override SandboxBuilder Configure(SandboxBuilder builder) => builder.Env("SCOPE", "test");

    [SandboxTheory]
    [InlineData("first")]
    [InlineData("second")]
    public async Task Each_test_sees_only_its_own_files(string me)
    {
        var ct = TestContext.Current.CancellationToken;
        // Another test's marker would be visible here if sandboxes were reused.
        var before = await Sandbox.ShellAsync("ls /tmp | grep '^mark-' || true", ct);
        Assert.Equal("", before.Stdout);
        await Sandbox.Fs.WriteTextAsync($"/tmp/mark-{me}", me, cancellationToken: ct);
        var env = await Sandbox.ShellAsync("echo $SCOPE", ct);
        Assert.Equal("test\n", env.Stdout);
    }
}
