using System.Text.Json;

namespace Microsandbox.Tests.Qemu;

/// <summary>Settings the QEMU engine cannot honour are refused when the launch is completed, naming the field.</summary>
public sealed class QemuRefusalTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("msbqr-").FullName;

    public QemuRefusalTests() => File.WriteAllBytes(Path.Combine(_home, "root.raw"), new byte[4096]);

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private string Refusal(Func<SandboxBuilder, SandboxBuilder> configure) =>
        Assert.Throws<InvalidConfigException>(() => QemuLaunches.Complete(QemuLaunches.Engine(), _home, "refused", configure)).Message;

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Fact]
    public void Upstream_only_network_settings_are_refused_by_name()
    {
        Assert.StartsWith("network.dns: not supported by the QEMU engine", Refusal(b => b.Network(n => n.Dns(Json("{}")))), StringComparison.Ordinal);
        Assert.StartsWith("network.tls: not supported by the QEMU engine", Refusal(b => b.Network(n => n.Tls(Json("{}")))), StringComparison.Ordinal);
        Assert.StartsWith("network.secrets: not supported by the QEMU engine", Refusal(b => b.Network(n => n.Secrets(Json("{}")))), StringComparison.Ordinal);
        Assert.StartsWith("network.interface: not supported by the QEMU engine", Refusal(b => b.Network(n => n.Interface(Json("{}")))), StringComparison.Ordinal);
        Assert.StartsWith("network.max_connections: not supported by the QEMU engine", Refusal(b => b.Network(n => n.MaxConnections(10))), StringComparison.Ordinal);
        Assert.StartsWith("network.trust_host_cas: not supported by the QEMU engine", Refusal(b => b.Network(n => n.TrustHostCas(true))), StringComparison.Ordinal);
        Assert.StartsWith("network.policy.rules[0].destination.domain: domain rules", Refusal(b => b.Network(n => n.Rules("allow@example.com"))), StringComparison.Ordinal);
    }

    [Fact]
    public void Ports_without_the_network_and_a_handoff_init_are_refused()
    {
        Assert.StartsWith("network.ports: published ports need the network", Refusal(b => b.DisableNetwork().Port(18080, 80)), StringComparison.Ordinal);
        Assert.StartsWith("init: a handoff init is not supported by the QEMU engine", Refusal(b => b.Init("/sbin/init")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_policy_reaches_qemu_as_the_filter_and_its_directives()
    {
        var launch = QemuLaunches.Complete(QemuLaunches.Engine(), _home, "filtered", b => b.Network(n => n.Profiles(NetworkProfile.Host)));
        Assert.Equal("/k/libmsb-netfilter.so", launch.Qemu!.Environment["LD_PRELOAD"]);
        Assert.StartsWith("default deny\n", launch.Qemu.Environment["MSB_NET_POLICY"], StringComparison.Ordinal);
        Assert.EndsWith("rule allow any any group:host\n", launch.Qemu.Environment["MSB_NET_POLICY"], StringComparison.Ordinal);
        Assert.Contains(launch.Qemu.Argv, a => a.StartsWith("user,id=net0,ipv6=off", StringComparison.Ordinal));

        var open = QemuLaunches.Complete(QemuLaunches.Engine(), _home, "open", b => b.Network(n => n.AllowAll()));
        Assert.Empty(open.Qemu!.Environment);
        var none = QemuLaunches.Complete(QemuLaunches.Engine(), _home, "none", b => b.DisableNetwork());
        Assert.DoesNotContain(none.Qemu!.Argv, a => a.StartsWith("user,", StringComparison.Ordinal));
        Assert.DoesNotContain("host_alias", none.Bootstrap.ToJsonString(), StringComparison.Ordinal);
    }
}
