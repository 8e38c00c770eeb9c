using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsandbox.Engines.Qemu;

namespace Microsandbox.Tests.Native;

/// <summary>
/// The network filter QEMU runs with (<c>libmsb-netfilter.so</c> from the guest package), preloaded into a small probe
/// (native/test/netfilter_probe.c) that makes the socket calls libslirp makes for a guest: which destinations each
/// policy lets through, the host's own addresses, published UDP replies, and the odd address forms.
/// </summary>
public sealed class NetFilterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("msbnf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string PublicOnly = "default deny\npublished udp 7777\nrule allow tcp,udp 53 group:host\nrule allow any any group:public\n";

    [Fact]
    public async Task The_default_policy_lets_the_public_internet_through_and_nothing_of_the_host()
    {
        var probe = await BuildProbeAsync();
        var ownAddress = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(u => u.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));

        Assert.Equal("EACCES", Run(probe, PublicOnly, "udp", "127.0.0.1", "9"));          // the gateway's loopback
        Assert.Equal("EACCES", Run(probe, PublicOnly, "udp", "0.0.0.0", "9"));            // delivered locally by Linux
        Assert.Equal("EACCES", Run(probe, PublicOnly, "udp", "::ffff:127.0.0.1", "9"));   // the same, IPv4-mapped
        Assert.Equal("EACCES", Run(probe, PublicOnly, "udp", "10.1.2.3", "9"));           // private
        Assert.Equal("EACCES", Run(probe, PublicOnly, "udp", "169.254.169.254", "80"));   // cloud metadata
        Assert.Equal("EACCES", Run(probe, PublicOnly, "udpmsg", "127.0.0.1", "9"));       // through sendmsg too
        Assert.Equal("EACCES", Run(probe, PublicOnly, "unspec"));                         // AF_UNSPEC taken as IPv4
        if (ownAddress is not null) Assert.Equal("EACCES", Run(probe, PublicOnly, "udp", ownAddress.ToString(), "9"));
        Assert.NotEqual("EACCES", Run(probe, PublicOnly, "udp", "198.51.100.1", "9"));    // public (sent, or unroutable here)
        Assert.Equal("ok", Run(probe, PublicOnly, "udp", "127.0.0.1", "9", "7777"));      // a reply from a published UDP port
        Assert.Equal("EACCES", Run(probe, "default allow\nrule deny any any cidr:198.51.100.0/24\n", "udp", "198.51.100.7", "9"));
    }

    [Fact]
    public async Task A_denied_connect_never_reaches_the_listener_and_an_allowed_one_does()
    {
        var probe = await BuildProbeAsync();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal("ECONNREFUSED", Run(probe, PublicOnly, "tcp", "127.0.0.1", port));
        Assert.False(listener.Pending());
        Assert.Equal("ok", Run(probe, PublicOnly + "rule allow tcp " + port + " group:host\n", "tcp", "127.0.0.1", port));
        Assert.True(listener.Pending());
        Assert.Equal("ECONNREFUSED", Run(probe, "default allow\nnot a directive\n", "tcp", "127.0.0.1", port)); // unreadable: deny all
    }

    private static string Run(string probe, string policy, params string[] arguments)
    {
        var filter = QemuAssets.Locate().NetFilter ?? throw new InvalidOperationException("the guest assets carry no network filter");
        var psi = new ProcessStartInfo(probe, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["LD_PRELOAD"] = filter;
        psi.Environment["MSB_NET_POLICY"] = policy;
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }

    private async Task<string> BuildProbeAsync()
    {
        if (QemuAssets.FindOnPath("gcc") is null) Assert.Skip("gcc is not installed (./build.sh Install)");
        var source = Path.Combine(RepositoryRoot.Find(), "native", "test", "netfilter_probe.c");
        var probe = Path.Combine(_dir, "netfilter_probe");
        using var gcc = Process.Start(new ProcessStartInfo("gcc", ["-O2", "-o", probe, source]) { RedirectStandardError = true })!;
        var errors = await gcc.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await gcc.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(gcc.ExitCode == 0, errors);
        return probe;
    }
}
