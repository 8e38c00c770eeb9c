using System.Net.Http;

namespace Microsandbox.Tests.Vm;

public sealed class PortTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_host_port_already_taken_is_refused_by_name_before_anything_starts()
    {
        VmEnvironment.RequireVm();
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        squatter.Start();
        var port = (ushort)((System.Net.IPEndPoint)squatter.LocalEndpoint).Port;
        var name = VmEnvironment.UniqueName("taken");
        var e = await Assert.ThrowsAsync<InvalidConfigException>(() => Sandbox.CreateAsync(
            new SandboxBuilder(name).Image(BuiltinImages.Busybox).Ephemeral().Port(port, 80), VmEnvironment.Options(output), Ct));
        Assert.Equal($"network.ports: host port 127.0.0.1:{port}/tcp (for guest port 80) is already in use", e.Message);
        await using var store = await Microsandbox.State.StateStore.OpenAsync(VmEnvironment.Home, Ct);
        Assert.Null(await store.GetSandboxAsync(name, Ct));
    }

    [Fact]
    public async Task An_http_server_in_the_guest_is_reached_on_the_mapped_host_port()
    {
        VmEnvironment.RequireVm();
        int hostPort = Sandbox.FreeTcpPort("127.0.0.1");
        await using var sb = await Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("ports"))
                .Image(BuiltinImages.Busybox)
                .Ephemeral()
                .Port((ushort)hostPort, 8080),
            VmEnvironment.Options(output), Ct);
        Assert.Equal(hostPort, sb.GetMappedPort(8080));

        await sb.Fs.MkdirAsync("/www", cancellationToken: Ct);
        await sb.Fs.WriteTextAsync("/www/index.html", "hello over hostfwd\n", cancellationToken: Ct);
        var start = await sb.ExecAsync("busybox", ["httpd", "-p", "8080", "-h", "/www"], Ct);
        Assert.Equal(0, start.ExitCode);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string? body = null;
        for (int attempt = 0; attempt < 50 && body is null; attempt++)
        {
            try
            {
                body = await http.GetStringAsync($"http://127.0.0.1:{hostPort}/index.html", Ct);
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100, Ct);
            }
        }
        Assert.Equal("hello over hostfwd\n", body);
        Assert.Throws<InvalidOperationException>(() => sb.GetMappedPort(9999));
    }
}
