using System.Net;
using Microsandbox.Engines.Qemu;
using Microsandbox.Runtime;

namespace Microsandbox.Tests.Qemu;

/// <summary>What makes two sandboxes the same shape for a snapshot template, and how a clone's argv is formed.</summary>
public sealed class TemplateKeyTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("msb-tplkey-");

    public void Dispose() => _dir.Delete(recursive: true);

    private LaunchConfig Launch(string name, Func<SandboxBuilder, SandboxBuilder> configure) =>
        QemuLaunches.Complete(QemuLaunches.Engine(), _dir.FullName, name, configure);

    private string Dir(string name) => Directory.CreateDirectory(Path.Combine(_dir.FullName, name)).FullName;

    [Fact]
    public void Name_hostname_env_bind_directories_and_forwarded_ports_do_not_change_the_shape()
    {
        var a = Launch("alpha", b => b.Hostname("a").Env("X", "1").Volume("/data", m => m.Bind(Dir("a"))).PortBind(IPAddress.Loopback, 18080, 80));
        var b = Launch("beta", b => b.Hostname("b").Env("X", "2").Volume("/data", m => m.Bind(Dir("b"))).PortBind(IPAddress.Loopback, 18081, 80));
        Assert.NotEqual(a.Qemu!.Argv, b.Qemu!.Argv);
        Assert.Equal(QemuTemplates.Key(a), QemuTemplates.Key(b));
    }

    [Fact]
    public void Memory_cpus_and_guest_visible_devices_do()
    {
        var plain = QemuTemplates.Key(Launch("p", b => b));
        Assert.NotEqual(plain, QemuTemplates.Key(Launch("p", b => b.Memory(1024))));
        Assert.NotEqual(plain, QemuTemplates.Key(Launch("p", b => b.Cpus(2))));
        Assert.NotEqual(plain, QemuTemplates.Key(Launch("p", b => b.Volume("/data", m => m.Bind(Dir("d"))))));
        Assert.NotEqual(plain, QemuTemplates.Key(Launch("p", b => b.Volume("/other", m => m.Bind(Dir("d"))))));
    }

    [Fact]
    public void A_kvm_guest_is_another_shape_on_another_host_cpu_and_a_tcg_guest_is_not()
    {
        var tcg = Launch("t", b => b);
        Assert.DoesNotContain("host", tcg.Qemu!.Argv);
        Assert.Equal(QemuTemplates.Key(tcg, () => "cpu A|sse4_2 avx2"), QemuTemplates.Key(tcg, () => "cpu B|sse4_2"));

        var kvm = QemuLaunches.Complete(QemuLaunches.Engine(kvm: true), _dir.FullName, "k", b => b);
        Assert.Contains("host", kvm.Qemu!.Argv);
        Assert.NotEqual(QemuTemplates.Key(kvm, () => "cpu A|sse4_2 avx2"), QemuTemplates.Key(kvm, () => "cpu B|sse4_2"));
        Assert.Equal(QemuTemplates.Key(kvm, () => "cpu A|sse4_2 avx2"), QemuTemplates.Key(kvm with { }, () => "cpu A|sse4_2 avx2"));
    }

    [Fact]
    public void The_template_builder_boots_the_shape_without_the_first_sandboxs_ports_shares_or_sockets()
    {
        var launch = Launch("first", b => b.Volume("/data", m => m.Bind(Dir("mine"))).PortBind(IPAddress.Loopback, 18082, 80));
        var built = launch.Qemu!.Argv.Select(a => QemuTemplates.TemplateArgument(a, launch, "/w/vm.sock", "/w/console.log", "/w/share")).ToList();
        Assert.DoesNotContain(built, a => a.Contains("hostfwd", StringComparison.Ordinal));
        Assert.DoesNotContain(built, a => a.Contains(Dir("mine"), StringComparison.Ordinal));
        Assert.Contains(built, a => a.StartsWith("local,", StringComparison.Ordinal) && a.EndsWith(",path=/w/share", StringComparison.Ordinal));
        Assert.Contains(built, a => a.Contains("path=/w/vm.sock", StringComparison.Ordinal));
        Assert.DoesNotContain(built, a => a.Contains(launch.LogDir, StringComparison.Ordinal));
        // The root disk stays copy-on-write; nothing the builder does reaches a sandbox's files.
        Assert.All(built.Where(a => a.StartsWith("file=", StringComparison.Ordinal)), a => Assert.Contains(",snapshot=on", a));
    }

    [Fact]
    public void A_clone_is_the_same_argv_without_the_boot_payload_resuming_from_fd_3()
    {
        var launch = Launch("c", b => b);
        var clone = QemuTemplates.AsClone(launch, "/cache/state");
        var argv = launch.Qemu!.Argv.ToList();
        foreach (var option in new[] { "-kernel", "-initrd", "-append" })
        {
            int at = argv.IndexOf(option);
            Assert.True(at >= 0, $"the cold argv has {option}");
            argv.RemoveRange(at, 2);
        }
        Assert.Equal([.. argv, "-incoming", "fd:3"], clone.Qemu!.Argv);
        Assert.Equal("/cache/state", clone.Qemu.RestoreState);
        Assert.Equal(QemuTemplates.Key(launch), QemuTemplates.Key(launch with { }));
    }
}

public sealed class TemplatePruneTests : IDisposable
{
    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("msb-tplprune-");

    public void Dispose() => _home.Delete(recursive: true);

    [Fact]
    public void Pruning_keeps_the_most_recently_used_templates_and_clears_only_abandoned_staging()
    {
        var home = new Microsandbox.Host.MicrosandboxHome(_home.FullName);
        var root = QemuTemplates.Directory(home);
        var now = DateTime.UtcNow;
        for (int i = 0; i < 5; i++)
        {
            var dir = Directory.CreateDirectory(Path.Combine(root, $"key{i}"));
            File.WriteAllText(Path.Combine(dir.FullName, "state"), "x");
            dir.LastWriteTimeUtc = now.AddMinutes(-10 * i); // key0 newest … key4 oldest
        }
        var unfinished = Directory.CreateDirectory(Path.Combine(root, "key9.tmp"));
        File.WriteAllText(Path.Combine(unfinished.FullName, "state"), "partial");
        var abandoned = Directory.CreateDirectory(Path.Combine(root, "key8.tmp"));
        abandoned.LastWriteTimeUtc = now.AddDays(-1);
        QemuTemplates.Touch(Path.Combine(root, "key4", "state")); // used just now: survives

        QemuTemplates.Prune(home, keep: 2);

        Assert.NotNull(QemuTemplates.Find(home, "key4"));
        Assert.NotNull(QemuTemplates.Find(home, "key0"));
        foreach (var gone in new[] { "key1", "key2", "key3" }) Assert.Null(QemuTemplates.Find(home, gone));
        Assert.True(Directory.Exists(unfinished.FullName)); // a build may still be writing it
        Assert.False(Directory.Exists(abandoned.FullName)); // left by a builder killed a day ago
    }
}
