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
        if (!network && ports.Count > 0)
            throw new InvalidConfigException("network.ports: published ports need the network, and network.enabled is false; keep the network with a deny-all policy (Network(n => n.DenyAll())) to let in nothing but the published ports");
        RefuseUnsupported(spec.Network);
        RefuseUnsupported(spec);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (network)
        {
            // The policy is enforced outside the guest: QEMU's user network asks the preloaded filter before it
            // connects or sends anywhere on the guest's behalf.
            var udpPorts = ports.Where(p => p.Protocol == "udp").Select(p => p.HostPort);
            if (QemuNetworkPolicy.Compile(spec.Network.Policy, QemuNetworkPolicy.HostResolvers(), udpPorts) is { } filter)
            {
                if (Assets.NetFilter is null)
                    throw new EngineUnavailableException("qemu", $"network.policy cannot be enforced: the network filter libmsb-netfilter.so is missing from the guest assets in {Assets.Directory} (rebuild them with native/build.sh, or use the {Host.AssetPackage.Guest.AssemblyName} package)");
                // ld.so splits LD_PRELOAD on spaces and colons and ignores what it cannot load: a path it would
                // misread would start QEMU with no filter at all.
                var filterPath = Path.GetFullPath(Assets.NetFilter);
                if (filterPath.IndexOfAny([' ', ':', '\t', '\n']) >= 0)
                    throw new EngineUnavailableException("qemu", $"network.policy cannot be enforced: the network filter's path {filterPath} contains a space or colon, which LD_PRELOAD cannot carry (move the guest assets, e.g. with MSB_QEMU_ASSETS or HOME)");
                environment["LD_PRELOAD"] = filterPath;
                environment["MSB_NET_POLICY"] = filter;
            }
            bootstrap = InsertAfter(bootstrap, "hostname", "hostname", "host_alias", HostAlias);
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
                Environment = environment,
            },
        };
        var argv = QemuCommandLine.Build(completed, spec.Resources.Cpus, (int)spec.Resources.MemoryMib,
            QemuCommandLine.VmmSocketPath(completed.AgentSock), QemuCommandLine.ConsoleLogPath(completed.LogDir));
        return completed with { Qemu = completed.Qemu with { Argv = argv } };
    }

    /// <summary>The name the guest resolves to its gateway, i.e. the host (upstream's <c>host.microsandbox.internal</c>).</summary>
    public const string HostAlias = "host.microsandbox.internal";

    // Network settings of upstream's engine that QEMU's user network has no counterpart for: refused, not ignored.
    private static void RefuseUnsupported(NetworkSpec network)
    {
        static InvalidConfigException Refused(string field, string why) =>
            new($"{field}: not supported by the QEMU engine ({why}); remove it or use the libkrun engine");
        if (network.Dns is not null) throw Refused("network.dns", "DNS interception and filtering need upstream's network engine");
        if (network.Tls is not null) throw Refused("network.tls", "TLS interception needs upstream's network engine");
        if (network.Secrets is not null) throw Refused("network.secrets", "secret injection needs upstream's network engine");
        if (network.Interface is not null) throw Refused("network.interface", "the guest interface is fixed: eth0, 10.0.2.15/24, gateway 10.0.2.2");
        if (network.MaxConnections is not null) throw Refused("network.max_connections", "QEMU's user network has no connection cap");
        if (network.TrustHostCas) throw Refused("network.trust_host_cas", "copying the host's CAs into the guest is not implemented");
    }

    // Spec fields the QEMU guest has no implementation of: refused at create rather than at boot (or never).
    private static void RefuseUnsupported(SandboxSpec spec)
    {
        if (spec.Runtime.Scripts.Count > 0)
            throw new InvalidConfigException("runtime.scripts: not supported by the QEMU engine (named scripts are an msb feature); write them with .Patch(p => p.Text(...)) and run them with ExecAsync, or use the libkrun engine");
        if (spec.Init is not null)
            throw new InvalidConfigException("init: a handoff init is not supported by the QEMU engine (its guest agent stays PID 1); use the libkrun engine");
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
