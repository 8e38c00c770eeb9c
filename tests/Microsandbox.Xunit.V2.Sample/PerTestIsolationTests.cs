using Xunit.Abstractions;

namespace Microsandbox.Xunit.V2.Sample;

/// <summary>Each test gets its own fresh sandbox from the pre-booted pool; its logs go to the test's output.</summary>
public sealed class PerTestIsolationTests(ITestOutputHelper output) : SandboxTest(new RecordingOutput(output))
{
    protected override SandboxBuilder Configure(SandboxBuilder builder) => builder.Env("SCOPE", "test");

    [SandboxTheory]
    [InlineData("first")]
    [InlineData("second")]
    public async Task Each_test_sees_only_its_own_files(string me)
    {
        // Another test's marker would be visible here if sandboxes were reused.
        var before = await Sandbox.ShellAsync("ls /tmp | grep '^mark-' || true");
        Assert.Equal("", before.Stdout);
        await Sandbox.Fs.WriteTextAsync($"/tmp/mark-{me}", me);
        var env = await Sandbox.ShellAsync("echo $SCOPE");
        Assert.Equal("test\n", env.Stdout);
    }

    [SandboxFact]
    public void The_output_helper_given_to_the_constructor_receives_the_sandbox_lines()
    {
        // v2 has no ambient test context: SandboxTest writes through the helper the class handed it.
        var lines = RecordingOutput.LinesOf(Sandbox.Name);
        Assert.Contains(lines, l => l.StartsWith($"sandbox {Sandbox.Name}: ", StringComparison.Ordinal) && l.Contains("waited", StringComparison.Ordinal));
    }

    /// <summary>Passes lines on to xUnit's helper and remembers them, keyed by the sandbox name they mention.</summary>
    private sealed class RecordingOutput(ITestOutputHelper inner) : ITestOutputHelper
    {
        private static readonly System.Collections.Concurrent.ConcurrentQueue<string> Lines = new();

        public static IReadOnlyList<string> LinesOf(string sandboxName) => [.. Lines.Where(l => l.Contains(sandboxName, StringComparison.Ordinal))];

        public void WriteLine(string message)
        {
            Lines.Enqueue(message);
            inner.WriteLine(message);
        }

        public void WriteLine(string format, params object[] args) => WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
    }
}
