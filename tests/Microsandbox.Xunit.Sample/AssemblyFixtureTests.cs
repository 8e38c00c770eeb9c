namespace Microsandbox.Xunit.Sample;

/// <summary>Uses the assembly-wide sandbox.</summary>
public sealed class AssemblyFixtureTests(AssemblySandbox fixture)
{
    [SandboxFact]
    public async Task Assembly_sandbox_runs_commands_with_its_environment()
    {
        var result = await fixture.Sandbox.ShellAsync("echo $SCOPE; uname -s", TestContext.Current.CancellationToken);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("assembly\nLinux\n", result.Stdout);
    }

    [SandboxTheory]
    [InlineData("alpha")]
    [InlineData("beta")]
    public async Task Files_written_into_the_assembly_sandbox_read_back(string word)
    {
        var path = $"/tmp/{word}.txt";
        await fixture.Sandbox.Fs.WriteTextAsync(path, word, cancellationToken: TestContext.Current.CancellationToken);
        var result = await fixture.Sandbox.ExecAsync("cat", [path], TestContext.Current.CancellationToken);
        Assert.Equal(word, result.Stdout);
    }
}
