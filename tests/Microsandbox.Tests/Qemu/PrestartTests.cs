using System.Text;
using Microsandbox.Engines.Qemu;
using Microsandbox.Runtime;

namespace Microsandbox.Tests.Qemu;

/// <summary>The VMM argv the engine hands the sandbox process, which starts QEMU before reading the rest.</summary>
public sealed class PrestartTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("msb-prestart-");

    public void Dispose() => _dir.Delete(recursive: true);

    private LaunchConfig Completed() =>
        QemuLaunches.Complete(QemuLaunches.Engine(), _dir.FullName, "prestart", b => b.Cpus(2).Memory(384));

    [Fact]
    public void Engine_argv_is_the_command_line_the_sandbox_process_would_build()
    {
        var launch = Completed();
        var rebuilt = QemuCommandLine.Build(launch, 2, 384, QemuCommandLine.VmmSocketPath(launch.AgentSock), QemuCommandLine.ConsoleLogPath(launch.LogDir));
        Assert.Equal(rebuilt, launch.Qemu!.Argv);
        Assert.Contains("384", launch.Qemu.Argv);
        Assert.Equal("/usr/bin/qemu-system-x86_64", launch.Qemu.Argv[0]);
    }

    [Fact]
    public void Peek_reads_argv_and_directories_from_the_raw_document()
    {
        var launch = Completed();
        var early = PrestartedVmm.Peek(Encoding.UTF8.GetBytes(launch.ToJson()));
        Assert.NotNull(early);
        Assert.Equal(launch.Qemu!.Argv, early.Argv);
        Assert.Equal(launch.AgentSock, early.AgentSock);
        Assert.Equal(launch.RuntimeDir, early.RuntimeDir);
        Assert.Equal(launch.LogDir, early.LogDir);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"qemu":{"argv":[]}}""")]
    [InlineData("""{"qemu":{"argv":["/usr/bin/qemu-system-x86_64"]}}""")]
    [InlineData("""{"qemu":{"argv":[1]},"agent_sock":"/a","runtime_dir":"/r","log_dir":"/l"}""")]
    [InlineData("not json")]
    public void Peek_declines_anything_it_cannot_start_from(string json)
    {
        Assert.Null(PrestartedVmm.Peek(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void A_missing_vmm_binary_is_not_prestarted()
    {
        var early = new EarlyLaunch(["/nonexistent/qemu"], Path.Combine(_dir.FullName, "run", "agent.sock"), Path.Combine(_dir.FullName, "rt"), _dir.FullName);
        Assert.Null(PrestartedVmm.TryStart(early));
        Assert.False(File.Exists(QemuCommandLine.VmmSocketPath(early.AgentSock)));
    }
}
