using System.Text.Json.Nodes;
using Microsandbox.Runtime;
using Microsandbox.Spec;

namespace Microsandbox.Engines.Qemu;

/// <summary>The QEMU engine: our C# sandbox process driving <c>qemu-system-x86_64</c> with our guest agent.</summary>
public sealed class QemuEngine : ISandboxEngine
{
    /// <summary>Creates the engine over located assets.</summary>
    /// <param name="assets">Kernel, initramfs, default root disk and the QEMU binary.</param>
    /// <param name="kvm">Whether KVM works here (else TCG).</param>
    /// <param name="sandboxProcessProgram">How to start our sandbox process.</param>
    public QemuEngine(QemuAssets assets, KvmStatus kvm, IReadOnlyList<string> sandboxProcessProgram)
    {
        Assets = assets;
        Kvm = kvm;
        SandboxProcessProgram = sandboxProcessProgram;
    }

    /// <inheritdoc />
    public string Name => "qemu";

    /// <summary>The files the engine boots.</summary>
    public QemuAssets Assets { get; }

    /// <summary>Whether guests run under KVM.</summary>
    public KvmStatus Kvm { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> SandboxProcessProgram { get; }

    /// <inheritdoc />
    public SandboxSpec ResolveImage(SandboxSpec spec, string? preparedRootDisk = null) =>
        Images.OciImages.ResolveRoot(spec, preparedRootDisk);

    /// <inheritdoc />
    public LaunchConfig Complete(LaunchConfig launch, SandboxSpec spec)
    {
        bool network = spec.Network.Enabled;
        var ports = spec.Network.Ports
            .Select(p => new QemuPortForward(p.Protocol == PortProtocol.Udp ? "udp" : "tcp", p.HostBind, p.HostPort, p.GuestPort))
            .ToList();
        var bootstrap = launch.Bootstrap.DeepClone().AsObject();
        var rootfs = launch.Rootfs;
        var initrd = Assets.Initrd;
        // The built-in image is booted copy-on-write and thrown away, exactly what an initramfs copy is: boot it from
        // the initramfs that carries it (the agent binds /rootfs as root when no block root is named), which skips
        // the root disk, the ext4 modules and the mount — the largest guest-side cost of a boot.
        if (rootfs.Disk is { } disk && BuiltinImages.IsBusyboxDisk(disk) && Assets.BusyboxInitrd is { } busyboxInitrd)
        {
            rootfs = rootfs with { Disk = null, DiskFormat = null, DiskReadonly = false };
            bootstrap.Remove("block_root");
            initrd = busyboxInitrd;
        }
        if (network || ports.Count > 0)
        {
            // QEMU user-mode networking: fixed guest address, gateway and DNS.
            var net = new JsonObject
            {
                ["interface"] = "eth0",
                ["mac"] = new JsonArray(0x52, 0x54, 0x00, 0x12, 0x34, 0x56),
                ["mtu"] = 1500,
                ["ipv4"] = new JsonObject { ["address"] = "10.0.2.15", ["prefix_len"] = 24, ["gateway"] = "10.0.2.2", ["dns"] = "10.0.2.3" },
            };
            bootstrap = InsertAfter(bootstrap, "host_alias", "hostname", "network", net);
        }
        var completed = launch with
        {
            Bootstrap = bootstrap,
            Rootfs = rootfs,
            Qemu = new QemuLaunch
            {
                Binary = Assets.QemuBinary,
                Kernel = Assets.Kernel,
                Initrd = initrd,
                Accel = Kvm.Usable ? "kvm" : "tcg",
                TscKhz = Host.HostCpu.TscKhz(),
                Ports = ports,
                Network = network,
            },
        };
        var argv = QemuCommandLine.Build(completed, spec.Resources.Cpus, (int)spec.Resources.MemoryMib,
            QemuCommandLine.VmmSocketPath(completed.AgentSock), QemuCommandLine.ConsoleLogPath(completed.LogDir));
        return completed with { Qemu = completed.Qemu with { Argv = argv } };
    }

    // serde writes fields in declaration order; keep `network` where GuestBootstrap declares it.
    private static JsonObject InsertAfter(JsonObject source, string preferred, string fallback, string key, JsonNode value)
    {
        var result = new JsonObject();
        bool inserted = false;
        var anchor = source.ContainsKey(preferred) ? preferred : fallback;
        foreach (var (k, v) in source.ToList())
        {
            result[k] = v?.DeepClone();
            if (k == anchor)
            {
                result[key] = value;
                inserted = true;
            }
        }
        if (!inserted) result[key] = value;
        return result;
    }
}
