using Microsandbox.Runtime;
using Microsandbox.Spawn;
using Microsandbox.Host;

namespace Microsandbox.Tests.Spawn;

public class SandboxProcessArgsTests
{
    [Fact]
    public void The_launcher_argv_parses_back_to_the_same_values()
    {
        var request = new SandboxLaunchRequest(["/x/msb"], new MicrosandboxHome("/h"), "box", 7, 3, 1024, new LaunchConfig(), SpawnMode.Attached, "--debug");
        var argv = request.BuildArgv();
        Assert.Equal("sandbox", argv[1]);
        var parsed = SandboxProcessArgs.Parse(argv.Skip(2).ToList());
        Assert.Equal(new SandboxProcessArgs("box", 7, 3, 1024, 96, null, 97, null, 99, "debug"), parsed);

        var detached = SandboxProcessArgs.Parse((request with { Mode = SpawnMode.Detached }).BuildArgv().Skip(2).ToList());
        Assert.Equal(98, detached.StartupFd);
        Assert.Null(detached.ParentWatchFd);
    }

    [Theory]
    [InlineData(new[] { "--sandbox-id", "1" }, "--name is required")]
    [InlineData(new[] { "--name", "n" }, "--sandbox-id is required")]
    [InlineData(new[] { "--name", "n", "--sandbox-id", "x" }, "--sandbox-id needs a non-negative integer, got 'x'")]
    [InlineData(new[] { "--name", "n", "--sandbox-id", "1", "--bogus" }, "unknown argument '--bogus'")]
    [InlineData(new[] { "--name" }, "--name needs a value")]
    public void Bad_arguments_are_named(string[] args, string message)
    {
        var e = Assert.Throws<MicrosandboxException>(() => SandboxProcessArgs.Parse(args));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_bad_launch_exits_2_with_one_line()
    {
        Assert.Equal(2, SandboxProcess.Run(["--name", "n", "--sandbox-id", "1"]));
    }
}
