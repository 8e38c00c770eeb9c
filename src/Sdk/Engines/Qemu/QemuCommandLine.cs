using System.Globalization;
using Microsandbox.Runtime;

namespace Microsandbox.Engines.Qemu;

/// <summary>
/// Turns a launch config into the QEMU argv for a microVM: PVH kernel + our initramfs, the agent port as a
/// virtio-serial port named <c>agent</c>, the root disk first (so the guest sees it as <c>/dev/vda</c>), 9p shares
/// tagged as upstream tags virtio-fs shares, extra disks with their id as the virtio-blk serial, user-mode networking
/// with host forwards.
/// </summary>
internal static class QemuCommandLine
{
    /// <summary>The chardev id of the agent port.</summary>
    public const string AgentChardev = "agent";

    /// <summary>The 9p tag the guest agent mounts as root when the bootstrap names no block root.</summary>
    public const string RootShareTag = "msb_root";

    /// <summary>Builds the argv (program first).</summary>
    /// <param name="launch">The launch config (must carry <see cref="LaunchConfig.Qemu"/>).</param>
    /// <param name="vcpus">Virtual CPUs.</param>
    /// <param name="memoryMib">Guest memory.</param>
    /// <param name="agentPortSocket">The unix socket this process listens on for QEMU's agent chardev.</param>
    /// <param name="consoleLog">Where the guest serial console is written.</param>
    public static IReadOnlyList<string> Build(LaunchConfig launch, int vcpus, int memoryMib, string agentPortSocket, string consoleLog)
    {
        var q = launch.Qemu ?? throw new MicrosandboxException("launch config has no qemu section: this sandbox process only drives QEMU");
        var args = new List<string> { q.Binary };
        bool kvm = q.Accel == "kvm";
        // No option ROMs: the PVH kernel is entered directly, and the firmware's ROM scan is pure boot time.
        args.AddRange(["-M", "microvm,x-option-roms=off"]);
        args.AddRange(["-accel", kvm ? "kvm" : "tcg"]);
        if (kvm) args.AddRange(["-cpu", "host"]);
        args.AddRange(["-m", memoryMib.ToString(CultureInfo.InvariantCulture)]);
        args.AddRange(["-smp", vcpus.ToString(CultureInfo.InvariantCulture)]);
        args.AddRange(["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"]);
        args.AddRange(["-chardev", $"file,id=console,path={Escape(consoleLog)}", "-serial", "chardev:console"]);
        args.AddRange(["-kernel", q.Kernel, "-initrd", q.Initrd]);
        args.AddRange(["-append", KernelCommandLine(q)]);

        args.AddRange(["-device", "virtio-serial-device"]);
        args.AddRange(["-chardev", $"socket,id={AgentChardev},path={Escape(agentPortSocket)},server=off"]);
        args.AddRange(["-device", $"virtserialport,chardev={AgentChardev},name=agent"]);

        // Root first: virtio-mmio slots are assigned in creation order and the guest expects the root on /dev/vda.
        if (launch.Rootfs.Disk is { } rootDisk)
        {
            var format = launch.Rootfs.DiskFormat ?? "raw";
            // A throwaway sandbox must never write into a shared base image: snapshot=on keeps writes in a temp overlay.
            var mode = launch.Rootfs.DiskReadonly ? "readonly=on" : "snapshot=on";
            args.AddRange(["-drive", $"file={Escape(rootDisk)},format={format},if=none,id=rootfs,{mode}"]);
            args.AddRange(["-device", "virtio-blk-device,drive=rootfs,serial=rootfs"]);
        }
        if (launch.Rootfs.Upper is { } upper)
        {
            args.AddRange(["-drive", $"file={Escape(upper)},format={launch.Rootfs.UpperFormat ?? "raw"},if=none,id=upper"]);
            args.AddRange(["-device", "virtio-blk-device,drive=upper,serial=upper"]);
        }

        int share = 0;
        if (launch.Rootfs.Path is { } rootDir)
        {
            args.AddRange(["-fsdev", $"local,id=fs{share},path={Escape(rootDir)},security_model=none"]);
            args.AddRange(["-device", $"virtio-9p-device,fsdev=fs{share},mount_tag={RootShareTag}"]);
            share++;
        }
        foreach (var mount in launch.Mounts)
        {
            var m = LaunchMountArgument.ParseDirectory(mount);
            var ro = m.Readonly ? ",readonly=on" : "";
            args.AddRange(["-fsdev", $"local,id=fs{share},path={Escape(m.HostPath)},security_model=none{ro}"]);
            args.AddRange(["-device", $"virtio-9p-device,fsdev=fs{share},mount_tag={m.Tag}"]);
            share++;
        }
        foreach (var disk in launch.Disks)
        {
            var d = LaunchMountArgument.ParseDisk(disk);
            var ro = d.Readonly ? ",readonly=on" : "";
            args.AddRange(["-drive", $"file={Escape(d.HostPath)},format={d.Format},if=none,id={d.Id}{ro}"]);
            args.AddRange(["-device", $"virtio-blk-device,drive={d.Id},serial={d.Id}"]);
        }

        if (q.Network)
        {
            // IPv4 only: the guest is configured for 10.0.2.15, and an IPv6 side would be one more path to police.
            var netdev = "user,id=net0,ipv6=off";
            foreach (var p in q.Ports)
                netdev += $",hostfwd={p.Protocol}:{p.HostBind}:{p.HostPort}-:{p.GuestPort}";
            args.AddRange(["-netdev", netdev, "-device", "virtio-net-device,netdev=net0"]);
        }
        return args;
    }

    /// <summary>The guest kernel command line.</summary>
    public static string KernelCommandLine(QemuLaunch q)
    {
        var cmdline = "console=ttyS0 quiet panic=-1 reboot=t";
        // Without HPET/PIT the TCG guest can stall calibrating the TSC; telling it the frequency avoids the hang.
        if (q.TscKhz > 0) cmdline += $" tsc_early_khz={q.TscKhz.ToString(CultureInfo.InvariantCulture)}";
        return cmdline;
    }

    /// <summary>Where the sandbox process listens for QEMU's agent chardev: next to the relay socket, so the path is
    /// short enough for <c>sun_path</c> whatever the sandbox name is.</summary>
    public static string VmmSocketPath(string agentSock) => Path.Combine(Path.GetDirectoryName(agentSock)!, "vm.sock");

    /// <summary>Where the guest serial console is written.</summary>
    public static string ConsoleLogPath(string logDir) => Path.Combine(logDir, "console.log");

    /// <summary>QEMU option values separate on commas; a literal comma is written twice.</summary>
    public static string Escape(string value) => value.Replace(",", ",,", StringComparison.Ordinal);
}
