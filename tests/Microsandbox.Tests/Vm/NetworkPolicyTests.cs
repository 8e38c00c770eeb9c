using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsandbox.Host;

namespace Microsandbox.Tests.Vm;

/// <summary>
/// The host's own services against guests under each policy: a listener on the host's loopback (what QEMU's gateway
/// leads to) and one on the host's own network address, each counting the connections it accepts, so a denial is
/// seen from the host's side too and not only as a failing command in the guest.
/// </summary>
public sealed class NetworkPolicyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly HostService _loopback = new(IPAddress.Loopback);
    private readonly HostService? _lan = HostService.OnOwnAddress();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _loopback.DisposeAsync();
        if (_lan is not null) await _lan.DisposeAsync();
    }

    [Fact]
    public async Task By_default_a_guest_reaches_none_of_the_hosts_own_services()
    {
        VmEnvironment.RequireVm();
        await using var sb = await Sandbox.CreateAsync(Builder("netdefault"), VmEnvironment.Options(output), Ct);

        Assert.Contains("10.0.2.2\thost.microsandbox.internal", await sb.Fs.ReadTextAsync("/etc/hosts", Ct), StringComparison.Ordinal);
        foreach (var (address, service) in Targets())
            Assert.DoesNotContain(HostService.Secret, await FetchAsync(sb, address, service.Port), StringComparison.Ordinal);
        Assert.Equal(0, _loopback.Accepted);
        Assert.Equal(0, _lan?.Accepted ?? 0);
    }

    [Fact]
    public async Task With_the_host_profile_the_guest_reaches_them()
    {
        VmEnvironment.RequireVm();
        await using var sb = await Sandbox.CreateAsync(Builder("nethost").Network(n => n.Profiles(NetworkProfile.Public, NetworkProfile.Host)), VmEnvironment.Options(output), Ct);

        foreach (var (address, service) in Targets())
            Assert.Contains(HostService.Secret, await FetchAsync(sb, address, service.Port), StringComparison.Ordinal);
        Assert.Equal(2, _loopback.Accepted);
        Assert.Equal(_lan is null ? 0 : 1, _lan?.Accepted ?? 0);
    }

    [Fact]
    public async Task Published_ports_work_under_deny_all_while_the_guest_reaches_nothing()
    {
        VmEnvironment.RequireVm();
        int hostPort = Sandbox.FreeTcpPort("127.0.0.1");
        await using var sb = await Sandbox.CreateAsync(
            Builder("netdeny").Network(n => n.DenyAll()).Port((ushort)hostPort, 8080), VmEnvironment.Options(output), Ct);

        await sb.Fs.MkdirAsync("/www", cancellationToken: Ct);
        await sb.Fs.WriteTextAsync("/www/index.html", "from the guest\n", cancellationToken: Ct);
        Assert.Equal(0, (await sb.ExecAsync("busybox", ["httpd", "-p", "8080", "-h", "/www"], Ct)).ExitCode);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string? body = null;
        for (int attempt = 0; attempt < 50 && body is null; attempt++)
        {
            try { body = await http.GetStringAsync($"http://127.0.0.1:{hostPort}/index.html", Ct); }
            catch (HttpRequestException) { await Task.Delay(100, Ct); }
        }
        Assert.Equal("from the guest\n", body);

        foreach (var (address, service) in Targets())
            Assert.DoesNotContain(HostService.Secret, await FetchAsync(sb, address, service.Port), StringComparison.Ordinal);
        Assert.Equal(0, _loopback.Accepted);
    }

    [Fact]
    public async Task Without_the_network_the_guest_has_only_loopback()
    {
        VmEnvironment.RequireVm();
        await using var sb = await Sandbox.CreateAsync(Builder("nonet").DisableNetwork(), VmEnvironment.Options(output), Ct);
        Assert.Equal("lo\n", (await sb.ExecAsync("ls", ["/sys/class/net"], Ct)).Stdout);
    }

    [Fact]
    public async Task Published_ports_without_the_network_are_refused_and_nothing_is_left()
    {
        VmEnvironment.RequireVm();
        var builder = Builder("nonetport").DisableNetwork().Port(18999, 80);
        var e = await Assert.ThrowsAsync<InvalidConfigException>(() => Sandbox.CreateAsync(builder, VmEnvironment.Options(output), Ct));
        Assert.StartsWith("network.ports: published ports need the network", e.Message, StringComparison.Ordinal);
        var name = builder.Build().Spec.Name;
        await using (var store = await Microsandbox.State.StateStore.OpenAsync(VmEnvironment.Home, Ct))
            Assert.Null(await store.GetSandboxAsync(name, Ct));
        Assert.Empty(LifecycleTests.QemuProcessesFor(name));
        Assert.False(Directory.Exists(new MicrosandboxHome(VmEnvironment.Home).SandboxDirectory(name)));
    }

    private IEnumerable<(string Address, HostService Service)> Targets()
    {
        yield return ("10.0.2.2", _loopback);
        yield return ("host.microsandbox.internal", _loopback);
        if (_lan is not null) yield return (_lan.Address.ToString(), _lan);
    }

    private static SandboxBuilder Builder(string prefix) =>
        new SandboxBuilder(VmEnvironment.UniqueName(prefix)).Image(BuiltinImages.Busybox).Ephemeral();

    private async Task<string> FetchAsync(Sandbox sb, string address, int port)
    {
        var result = await sb.ExecAsync("sh", ["-c", $"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {address} {port}"], Ct);
        output.WriteLine($"guest → {address}:{port}: exit {result.ExitCode}, stdout [{result.Stdout.Trim()}], stderr [{result.Stderr.Trim()}]");
        return result.Stdout;
    }

    /// <summary>A one-line HTTP service on the host that counts the connections it accepted.</summary>
    private sealed class HostService : IAsyncDisposable
    {
        public const string Secret = "host-only-secret";
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _accepted;

        public HostService(IPAddress address)
        {
            _listener = new TcpListener(address, 0);
            _listener.Start();
            Address = address;
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _loop = ServeAsync();
        }

        public IPAddress Address { get; }

        public int Port { get; }

        public int Accepted => Volatile.Read(ref _accepted);

        /// <summary>A listener on the host's first non-loopback IPv4 address, or null on a host without one.</summary>
        public static HostService? OnOwnAddress()
        {
            var address = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
                .Select(u => u.Address)
                .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
            return address is null ? null : new HostService(address);
        }

        private async Task ServeAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
                Interlocked.Increment(ref _accepted);
                using (client)
                {
                    var stream = client.GetStream();
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\n\r\n{Secret}\n"));
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _loop;
            _stop.Dispose();
        }
    }
}
