using Microsandbox.Engines;
using Microsandbox.Engines.Qemu;
using Microsandbox.Host;
using Microsandbox.Runtime;
using Microsandbox.Spawn;

namespace Microsandbox.Tests.Qemu;

/// <summary>QEMU launch configs as the engine completes them, over placeholder assets (no VM is started).</summary>
internal static class QemuLaunches
{
    public static QemuEngine Engine(string? busyboxInitrd = null, bool kvm = false) =>
        new(new QemuAssets("/usr/bin/qemu-system-x86_64", "/k/vmlinux", "/k/initrd.cpio", "/k/rootfs.ext4", "/k") { BusyboxInitrd = busyboxInitrd, NetFilter = "/k/libmsb-netfilter.so" },
            new KvmStatus(kvm, "test"), ["sandbox-process"]);

    /// <summary>Plans and completes a sandbox whose home (and default root disk) is <paramref name="home"/>.</summary>
    public static LaunchConfig Complete(QemuEngine engine, string home, string name, Func<SandboxBuilder, SandboxBuilder> configure)
    {
        var builder = new SandboxBuilder(name).Image(i => i.Disk(Path.Combine(home, "root.raw")).Fstype("ext4"));
        var spec = configure(builder).Build().WithDefaults().Spec;
        return engine.Complete(LaunchPlanner.Plan(spec, 1, new MicrosandboxHome(home)), spec);
    }
}
