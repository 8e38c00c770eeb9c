using System.Text.Json;
using Microsandbox.Host;
using Microsandbox.Runtime;
using Microsandbox.Spawn;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsandbox.Tests.Spawn;

/// <summary>The launcher side of the sandbox-process contract, exercised against a scripted stand-in process.</summary>
public sealed class SandboxSpawnerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("msb-spawn-").FullName;
    private static readonly string FakeSandbox = Path.Combine(AppContext.BaseDirectory, "fixtures", "runtime", "fake-sandbox.sh");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private SandboxLaunchRequest Request(string mode, SpawnMode spawnMode, string name = "box")
    {
        var home = new MicrosandboxHome(Path.Combine(_root, "home"));
        var launch = new LaunchConfig
        {
            DbPath = home.DatabasePath,
            LogDir = home.LogDirectory(name),
            RuntimeDir = home.RuntimeDirectory(name),
            AgentSock = home.AgentSocketPath(name),
            Lifecycle = new LaunchLifecycle { IdleTimeoutSecs = 7 },
        };
        var env = new Dictionary<string, string?> { ["FAKE_SANDBOX_MODE"] = mode, ["FAKE_SANDBOX_OUT"] = Path.Combine(_root, "out") };
        return new SandboxLaunchRequest(["/bin/sh", FakeSandbox], home, name, 42, 2, 256, launch, spawnMode, Environment: env);
    }

    [Fact]
    public void Argv_matches_the_upstream_sandbox_command()
    {
        var argv = Request("ok", SpawnMode.Attached).BuildArgv();
        Assert.Equal(
            ["/bin/sh", FakeSandbox, "sandbox", "--name", "box", "--sandbox-id", "42", "--parent-watch-fd", "97",
             "--vcpus", "2", "--memory-mib", "256", "--config-fd", "96", "--lifecycle-lock-fd", "99"],
            argv);
        var detached = Request("ok", SpawnMode.Detached).BuildArgv();
        Assert.Contains("--startup-fd", detached);
        Assert.DoesNotContain("--parent-watch-fd", detached);
    }

    [Fact]
    public async Task Attached_child_gets_config_on_fd_96_and_stops_when_the_watchdog_closes()
    {
        var request = Request("ok", SpawnMode.Attached);
        using var spawned = await SandboxSpawner.SpawnAsync(request, NullLogger.Instance, TestContext.Current.CancellationToken);
        Assert.False(spawned.HasExited);

        var config = JsonDocument.Parse(await ReadWhenPresentAsync(Path.Combine(_root, "out.config")));
        Assert.Equal(7, config.RootElement.GetProperty("lifecycle").GetProperty("idle_timeout_secs").GetInt32());
        Assert.Equal(request.Launch.AgentSock, config.RootElement.GetProperty("agent_sock").GetString());
        var fds = await ReadWhenPresentAsync(Path.Combine(_root, "out.fds"));
        Assert.Contains(" 97 ", fds);
        Assert.Contains(" 99 -> " + request.Home.LifecycleLockPath("box"), fds);
        Assert.True(LifecycleLock.IsHeld(request.Home, "box"), "the child holds the lifecycle lock");

        spawned.ReleaseWatchdog();
        await spawned.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Equal("watchdog-eof", (await File.ReadAllTextAsync(Path.Combine(_root, "out.watch"), TestContext.Current.CancellationToken)).Trim());
        Assert.False(LifecycleLock.IsHeld(request.Home, "box"), "the lock dies with its holder");
    }

    [Fact]
    public async Task Detached_child_reports_on_the_startup_fd_in_its_own_session()
    {
        var request = Request("ok", SpawnMode.Detached);
        using var spawned = await SandboxSpawner.SpawnAsync(request, NullLogger.Instance, TestContext.Current.CancellationToken);
        var stat = await File.ReadAllTextAsync($"/proc/{spawned.Pid}/stat", TestContext.Current.CancellationToken);
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        Assert.Equal(spawned.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[3]); // session id == pid
        spawned.Signal(Libc.SIGKILL);
        await spawned.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_child_that_dies_before_reporting_gives_its_stderr_in_the_error()
    {
        var e = await Assert.ThrowsAsync<MicrosandboxException>(() => SandboxSpawner.SpawnAsync(Request("crash", SpawnMode.Attached), NullLogger.Instance, TestContext.Current.CancellationToken));
        Assert.Contains("before sending startup info", e.Message);
        Assert.Contains("fake sandbox: boom", e.Message);
        Assert.False(LifecycleLock.IsHeld(new MicrosandboxHome(Path.Combine(_root, "home")), "box"));
    }

    [Fact]
    public async Task A_wrong_startup_pid_is_rejected()
    {
        var e = await Assert.ThrowsAsync<MicrosandboxException>(() => SandboxSpawner.SpawnAsync(Request("wrongpid", SpawnMode.Attached), NullLogger.Instance, TestContext.Current.CancellationToken));
        Assert.Contains("PID mismatch", e.Message);
    }

    [Fact]
    public async Task A_second_launch_of_a_live_name_is_refused()
    {
        var request = Request("ok", SpawnMode.Attached);
        using var first = await SandboxSpawner.SpawnAsync(request, NullLogger.Instance, TestContext.Current.CancellationToken);
        var e = await Assert.ThrowsAsync<MicrosandboxException>(() => SandboxSpawner.SpawnAsync(request, NullLogger.Instance, TestContext.Current.CancellationToken));
        Assert.Contains("lifecycle is currently owned", e.Message);
        first.ReleaseWatchdog();
        await first.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task An_overlong_socket_path_is_refused_before_anything_starts()
    {
        var request = Request("ok", SpawnMode.Attached);
        request = request with { Launch = request.Launch with { AgentSock = "/" + new string('x', 200) + "/agent.sock" } };
        var e = await Assert.ThrowsAsync<MicrosandboxException>(() => SandboxSpawner.SpawnAsync(request, NullLogger.Instance, TestContext.Current.CancellationToken));
        Assert.Contains("Unix socket path is too long", e.Message);
    }

    [Theory]
    [InlineData("{\"pid\":123}", 123)]
    [InlineData("{\"pid\": 7}\n", 7)]
    [InlineData("not json", -1)]
    [InlineData("", -1)]
    [InlineData(null, -1)]
    [InlineData("{\"other\":1}", -1)]
    public void Startup_line_parsing(string? line, int expected) => Assert.Equal(expected, SandboxSpawner.ParsePid(line));

    private static async Task<string> ReadWhenPresentAsync(string path)
    {
        for (int i = 0; i < 200 && !File.Exists(path); i++) await Task.Delay(25);
        return await File.ReadAllTextAsync(path);
    }
}
