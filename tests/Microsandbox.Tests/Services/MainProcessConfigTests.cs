using Microsandbox.Config;
using Microsandbox.Runtime;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Services;

/// <summary>
/// How the main process is resolved from the builder and the image config, by Docker's rules: entrypoint + cmd, an
/// entrypoint of the user's own drops the image's CMD, env/workdir/user and STOPSIGNAL come from the image unless set.
/// </summary>
public sealed class MainProcessConfigTests
{
    private static readonly ImageConfig Redis = new()
    {
        Entrypoint = ["docker-entrypoint.sh"],
        Cmd = ["redis-server"],
        Env = ["PATH=/usr/local/bin:/usr/bin:/bin", "REDIS_VERSION=7.2"],
        WorkingDir = "/data",
        User = "redis",
        StopSignal = "SIGINT",
    };

    private static StartupCommand Resolve(SandboxBuilder builder, ImageConfig image) =>
        StartupCommand.For(builder.Build().MergeImageDefaults(image))!;

    [Fact]
    public void The_images_entrypoint_cmd_env_workdir_user_and_stop_signal_make_the_main_process()
    {
        var main = Resolve(new SandboxBuilder("svc").Image("redis:7").MainProcess(), Redis);
        Assert.Equal("docker-entrypoint.sh", main.Cmd);
        Assert.Equal(["redis-server"], main.Args);
        Assert.Equal(["PATH=/usr/local/bin:/usr/bin:/bin", "REDIS_VERSION=7.2"], main.Env);
        Assert.Equal("/data", main.Cwd);
        Assert.Equal("redis", main.User);
        Assert.Equal(2, main.StopSignal);
        Assert.Equal(10, main.StopGraceSecs);
        Assert.False(main.KeepVm);
    }

    [Fact]
    public void The_builders_cmd_replaces_the_images_and_keeps_its_entrypoint()
    {
        var main = Resolve(new SandboxBuilder("svc").Image("redis:7").MainProcess().Cmd("redis-server", "--port", "7000").Env("REDIS_VERSION", "mine"), Redis);
        Assert.Equal("docker-entrypoint.sh", main.Cmd);
        Assert.Equal(["redis-server", "--port", "7000"], main.Args);
        Assert.Equal(["PATH=/usr/local/bin:/usr/bin:/bin", "REDIS_VERSION=mine"], main.Env);
    }

    [Fact]
    public void The_builders_entrypoint_replaces_the_images_and_drops_its_cmd()
    {
        var main = Resolve(new SandboxBuilder("svc").Image("redis:7").MainProcess().Entrypoint("/bin/sleep"), Redis);
        Assert.Equal("/bin/sleep", main.Cmd);
        Assert.Empty(main.Args);
        var both = Resolve(new SandboxBuilder("svc").Image("redis:7").MainProcess().Entrypoint("/bin/sleep").Cmd("30"), Redis);
        Assert.Equal(["30"], both.Args);
    }

    [Fact]
    public void Builder_settings_win_over_the_image()
    {
        var main = Resolve(new SandboxBuilder("svc").Image("redis:7").MainProcess(keepVm: true).StopSignal("15").StopTimeout(TimeSpan.FromSeconds(2.5))
            .Workdir("/srv").User("root"), Redis);
        Assert.Equal(15, main.StopSignal);
        Assert.Equal(2.5, main.StopGraceSecs);
        Assert.True(main.KeepVm);
        Assert.Equal("/srv", main.Cwd);
        Assert.Equal("root", main.User);
    }

    [Fact]
    public void Without_MainProcess_nothing_runs_even_when_the_image_has_a_command()
    {
        Assert.Null(StartupCommand.For(new SandboxBuilder("svc").Image("redis:7").Build().MergeImageDefaults(Redis)));
    }

    [Fact]
    public void An_image_stop_signal_that_is_not_one_is_refused_naming_where_it_came_from()
    {
        var e = Assert.Throws<InvalidConfigException>(() => Resolve(new SandboxBuilder("svc").Image("redis:7").MainProcess(), Redis with { StopSignal = "SIGNOPE" }));
        Assert.Equal("stop_signal: 'SIGNOPE' (the image's STOPSIGNAL or the builder's) is not a signal name (SIGTERM, TERM) or a number 1..64", e.Message);
    }

    [Fact]
    public void PublishExposedPorts_adds_each_exposed_port_not_published_yet_on_a_free_host_port()
    {
        var image = Redis with { ExposedPorts = ["6379/tcp", "8080", "53/udp", "9000/sctp", "nope"] };
        var ports = new SandboxBuilder("svc").Image("redis:7").Port(16379, 6379).PublishExposedPorts().Build().MergeImageDefaults(image).Spec.Network.Ports;
        Assert.Equal(
            [(16379, 6379, PortProtocol.Tcp), (0, 8080, PortProtocol.Tcp), (0, 53, PortProtocol.Udp)],
            ports.Select(p => ((int)p.HostPort, (int)p.GuestPort, p.Protocol)));
        Assert.Empty(new SandboxBuilder("svc").Image("redis:7").Build().MergeImageDefaults(image).Spec.Network.Ports);
    }

    [Fact]
    public void What_msb_cannot_honour_for_a_main_process_is_refused_naming_the_setting()
    {
        var plain = Resolve(new SandboxBuilder("svc").Image("redis:7").MainProcess(), Redis with { StopSignal = null });
        Assert.Null(StartupCommand.KrunRefusal(plain, 0));
        Assert.StartsWith("copy-in before the main process: msb (the krun engine)", StartupCommand.KrunRefusal(plain, 1), StringComparison.Ordinal);
        Assert.StartsWith("main process keepVm: msb", StartupCommand.KrunRefusal(plain with { KeepVm = true }, 0), StringComparison.Ordinal);
        Assert.StartsWith("stop_signal SIGINT: msb", StartupCommand.KrunRefusal(Resolve(new SandboxBuilder("svc").Image("redis:7").MainProcess(), Redis), 0), StringComparison.Ordinal);
        Assert.StartsWith("stop_timeout: msb", StartupCommand.KrunRefusal(plain with { StopGraceSecs = 3 }, 0), StringComparison.Ordinal);
        Assert.StartsWith("healthcheck: msb", StartupCommand.KrunRefusal(plain with { Healthcheck = new StartupHealthcheck(["true"], 1, 1, 0, 3) }, 0), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SIGTERM", 15)]
    [InlineData("term", 15)]
    [InlineData("SIGQUIT", 3)]
    [InlineData("9", 9)]
    [InlineData("SIGWINCH", 28)]
    [InlineData("0", null)]
    [InlineData("65", null)]
    [InlineData("-1", null)]
    [InlineData("", null)]
    [InlineData("SIG", null)]
    public void Stop_signals_read_as_docker_reads_STOPSIGNAL(string text, int? expected) =>
        Assert.Equal(expected, Host.Signals.Parse(text));

    [Fact]
    public void The_main_process_travels_in_the_launch_config_under_upstreams_field_names()
    {
        var json = new LaunchConfig { Startup = new StartupCommand { Cmd = "redis-server", Args = ["--port", "1"], Env = ["A=b"], Cwd = "/data" } }.ToJson();
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var startup = doc.RootElement.GetProperty("startup");
        Assert.Equal("redis-server", startup.GetProperty("cmd").GetString());
        Assert.Equal("--port", startup.GetProperty("args")[0].GetString());
        Assert.Equal("A=b", startup.GetProperty("env")[0].GetString());
        Assert.Equal("/data", startup.GetProperty("cwd").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, startup.GetProperty("user").ValueKind);
        Assert.Equal("redis-server", LaunchConfig.FromJson(System.Text.Encoding.UTF8.GetBytes(json)).Startup!.Cmd);
    }
}
