extern alias BuildProgram;

using BuildProgram::Microsandbox.Build;

namespace Microsandbox.Tests.Build;

public sealed class CommandRunnerTests
{
    [Fact]
    public void Echoed_command_lines_quote_what_a_shell_would_split()
    {
        var line = CommandRunner.Display("apt-get", ["install", "-y", "two words", "it's", "", "-f=${Package}"]);

        Assert.Equal("apt-get install -y 'two words' 'it'\\''s' '' '-f=${Package}'", line);
    }

    [Fact]
    public async Task A_failing_child_carries_its_exit_code()
    {
        var runner = new CommandRunner(Path.GetTempPath());

        var error = await Assert.ThrowsAsync<BuildFailedException>(
            () => runner.RunAsync("sh", ["-c", "exit 7"], TestContext.Current.CancellationToken));

        Assert.Equal(7, error.ExitCode);
    }

    [Fact]
    public async Task Arguments_reach_the_child_unsplit()
    {
        var runner = new CommandRunner(Path.GetTempPath());

        var (exitCode, output) = await runner.CaptureAsync(
            "printf", ["<%s>", "a b", "$HOME", "*"], TestContext.Current.CancellationToken);

        Assert.Equal(0, exitCode);
        Assert.Equal("<a b><$HOME><*>", output);
    }
}
