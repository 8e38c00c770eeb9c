using System.Formats.Cbor;
using System.Net;
using System.Net.Sockets;
using Microsandbox.Agent.Cbor;

namespace Microsandbox.Agent;

/// <summary>
/// <c>core.bootstrap</c>: the one-shot guest configuration the host sends as the very first frame (id 0, flags 0),
/// before the guest agent initialises. Empty lists and null options are omitted on the wire, as upstream does;
/// <see cref="SecurityProfile"/> is always written.
/// </summary>
public sealed record GuestBootstrap : IAgentPayload<GuestBootstrap>
{
    /// <summary>How to assemble a block-device root filesystem, when the root is on a block device.</summary>
    public BootstrapBlockRoot? BlockRoot { get; init; }
    /// <summary>Directory shares mounted in the guest.</summary>
    public IReadOnlyList<BootstrapDirMount> DirMounts { get; init; } = [];
    /// <summary>Single-file shares mounted in the guest.</summary>
    public IReadOnlyList<BootstrapFileMount> FileMounts { get; init; } = [];
    /// <summary>Extra block devices mounted in the guest.</summary>
    public IReadOnlyList<BootstrapDiskMount> DiskMounts { get; init; } = [];
    /// <summary>Tmpfs mounts.</summary>
    public IReadOnlyList<BootstrapTmpfsMount> TmpfsMounts { get; init; } = [];
    /// <summary>Guest hostname.</summary>
    public string? Hostname { get; init; }
    /// <summary>Host alias written into the guest's hosts file.</summary>
    public string? HostAlias { get; init; }
    /// <summary>Guest network interface configuration.</summary>
    public BootstrapNetwork? Network { get; init; }
    /// <summary>Sandbox-wide resource limits.</summary>
    public IReadOnlyList<ExecRlimit> Rlimits { get; init; } = [];
    /// <summary>Default user for commands (<c>USER[:GROUP]</c> or <c>UID[:GID]</c>).</summary>
    public string? User { get; init; }
    /// <summary>Default working directory for commands.</summary>
    public string? DefaultCwd { get; init; }
    /// <summary>Environment inherited by every command unless it overrides a key.</summary>
    public IReadOnlyList<BootstrapEnvVar> DefaultEnv { get; init; } = [];
    /// <summary>In-guest security profile.</summary>
    public BootstrapSecurityProfile SecurityProfile { get; init; } = BootstrapSecurityProfile.Default;
    /// <summary>Optional hand-over of PID 1 to another init after setup.</summary>
    public BootstrapHandoffInit? HandoffInit { get; init; }
    /// <summary>QEMU-engine extension for a guest resumed from a snapshot template: the wall clock to set first.</summary>
    public ulong? UnixTimeNanos { get; init; }
    /// <summary>QEMU-engine extension for a guest resumed from a snapshot template: host random bytes for its pool.</summary>
    public byte[]? Entropy { get; init; }

    static string IAgentPayload<GuestBootstrap>.WireType => MessageType.Bootstrap;

    /// <inheritdoc/>
    public void WriteTo(CborWriter writer)
    {
        var map = new FieldList();
        if (BlockRoot is not null) map.Add("block_root", BlockRoot.WriteTo);
        if (DirMounts.Count > 0) map.Add("dir_mounts", w => CborFields.WriteArray(w, DirMounts, static (x, m) => m.WriteTo(x)));
        if (FileMounts.Count > 0) map.Add("file_mounts", w => CborFields.WriteArray(w, FileMounts, static (x, m) => m.WriteTo(x)));
        if (DiskMounts.Count > 0) map.Add("disk_mounts", w => CborFields.WriteArray(w, DiskMounts, static (x, m) => m.WriteTo(x)));
        if (TmpfsMounts.Count > 0) map.Add("tmpfs_mounts", w => CborFields.WriteArray(w, TmpfsMounts, static (x, m) => m.WriteTo(x)));
        if (Hostname is not null) map.Add("hostname", w => w.WriteTextString(Hostname));
        if (HostAlias is not null) map.Add("host_alias", w => w.WriteTextString(HostAlias));
        if (Network is not null) map.Add("network", Network.WriteTo);
        if (Rlimits.Count > 0) map.Add("rlimits", w => CborFields.WriteArray(w, Rlimits, static (x, r) => r.WriteTo(x)));
        if (User is not null) map.Add("user", w => w.WriteTextString(User));
        if (DefaultCwd is not null) map.Add("default_cwd", w => w.WriteTextString(DefaultCwd));
        if (DefaultEnv.Count > 0) map.Add("default_env", w => CborFields.WriteArray(w, DefaultEnv, static (x, e) => e.WriteTo(x)));
        map.Add("security_profile", w => w.WriteTextString(SecurityProfile == BootstrapSecurityProfile.Restricted ? "restricted" : "default"));
        if (HandoffInit is not null) map.Add("handoff_init", HandoffInit.WriteTo);
        if (UnixTimeNanos is { } nanos) map.Add("unix_time_nanos", w => w.WriteUInt64(nanos));
        if (Entropy is { } entropy) map.Add("entropy", w => w.WriteByteString(entropy));
        map.WriteTo(writer);
    }

    static GuestBootstrap IAgentPayload<GuestBootstrap>.ReadFrom(CborReader r)
    {
        var b = new GuestBootstrap();
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "block_root": b = b with { BlockRoot = CborFields.IsNull(r) ? null : BootstrapBlockRoot.ReadFrom(r) }; return true;
                case "dir_mounts": b = b with { DirMounts = CborFields.ReadArray(r, BootstrapDirMount.ReadFrom) }; return true;
                case "file_mounts": b = b with { FileMounts = CborFields.ReadArray(r, BootstrapFileMount.ReadFrom) }; return true;
                case "disk_mounts": b = b with { DiskMounts = CborFields.ReadArray(r, BootstrapDiskMount.ReadFrom) }; return true;
                case "tmpfs_mounts": b = b with { TmpfsMounts = CborFields.ReadArray(r, BootstrapTmpfsMount.ReadFrom) }; return true;
                case "hostname": b = b with { Hostname = CborFields.ReadOptionalString(r) }; return true;
                case "host_alias": b = b with { HostAlias = CborFields.ReadOptionalString(r) }; return true;
                case "network": b = b with { Network = CborFields.IsNull(r) ? null : BootstrapNetwork.ReadFrom(r) }; return true;
                case "rlimits": b = b with { Rlimits = CborFields.ReadArray(r, ExecRlimit.ReadFrom) }; return true;
                case "user": b = b with { User = CborFields.ReadOptionalString(r) }; return true;
                case "default_cwd": b = b with { DefaultCwd = CborFields.ReadOptionalString(r) }; return true;
                case "default_env": b = b with { DefaultEnv = CborFields.ReadArray(r, BootstrapEnvVar.ReadFrom) }; return true;
                case "security_profile":
                    b = b with { SecurityProfile = r.ReadTextString() == "restricted" ? BootstrapSecurityProfile.Restricted : BootstrapSecurityProfile.Default };
                    return true;
                case "handoff_init": b = b with { HandoffInit = CborFields.IsNull(r) ? null : BootstrapHandoffInit.ReadFrom(r) }; return true;
                case "unix_time_nanos": b = b with { UnixTimeNanos = r.ReadUInt64() }; return true;
                case "entropy": b = b with { Entropy = r.ReadByteString() }; return true;
                default: return false;
            }
        });
        return b;
    }

    /// <inheritdoc/>
    public bool Equals(GuestBootstrap? other) =>
        other is not null
        && Equals(BlockRoot, other.BlockRoot)
        && DirMounts.SequenceEqual(other.DirMounts)
        && FileMounts.SequenceEqual(other.FileMounts)
        && DiskMounts.SequenceEqual(other.DiskMounts)
        && TmpfsMounts.SequenceEqual(other.TmpfsMounts)
        && Hostname == other.Hostname
        && HostAlias == other.HostAlias
        && Equals(Network, other.Network)
        && Rlimits.SequenceEqual(other.Rlimits)
        && User == other.User
        && DefaultCwd == other.DefaultCwd
        && DefaultEnv.SequenceEqual(other.DefaultEnv)
        && SecurityProfile == other.SecurityProfile
        && Equals(HandoffInit, other.HandoffInit)
        && UnixTimeNanos == other.UnixTimeNanos
        && (Entropy ?? []).AsSpan().SequenceEqual(other.Entropy ?? []) && (Entropy is null) == (other.Entropy is null);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Hostname, User, DefaultCwd, SecurityProfile, DirMounts.Count, TmpfsMounts.Count);
}

/// <summary>In-guest security profile (snake_case on the wire).</summary>
public enum BootstrapSecurityProfile
{
    /// <summary>Normal guest-root behaviour.</summary>
    Default,
    /// <summary><c>no_new_privs</c>, no <c>CAP_SYS_ADMIN</c> for commands, <c>nosuid,nodev</c> on user mounts.</summary>
    Restricted,
}

/// <summary>Block-device root filesystem (closed set; internally tagged with <c>"kind"</c> in kebab-case).</summary>
public abstract record BootstrapBlockRoot
{
    private BootstrapBlockRoot() { }

    /// <summary>One filesystem image mounted as the root (<c>kind: disk-image</c>).</summary>
    /// <param name="Device">Guest block device, e.g. <c>/dev/vda</c>.</param>
    /// <param name="Fstype">Filesystem type, or null to probe (omitted when null).</param>
    /// <param name="Upper">
    /// QEMU-engine extension (omitted when null): mount the image read-only under this overlay upper, so every guest
    /// write stays in the upper (a tmpfs for a ready-state template).
    /// </param>
    public sealed record DiskImage(string Device, string? Fstype = null, BootstrapBlockRootUpper? Upper = null) : BootstrapBlockRoot;

    /// <summary>An EROFS lower layer under a writable overlay upper (<c>kind: oci-erofs</c>).</summary>
    /// <param name="Lower">EROFS block device.</param>
    /// <param name="Upper">Writable upper.</param>
    public sealed record OciErofs(string Lower, BootstrapBlockRootUpper Upper) : BootstrapBlockRoot;

    internal void WriteTo(CborWriter w)
    {
        var map = new FieldList();
        switch (this)
        {
            case DiskImage d:
                map.Add("kind", x => x.WriteTextString("disk-image"));
                map.Add("device", x => x.WriteTextString(d.Device));
                if (d.Fstype is not null) map.Add("fstype", x => x.WriteTextString(d.Fstype));
                if (d.Upper is not null) map.Add("upper", d.Upper.WriteTo);
                break;
            case OciErofs o:
                map.Add("kind", x => x.WriteTextString("oci-erofs"));
                map.Add("lower", x => x.WriteTextString(o.Lower));
                map.Add("upper", o.Upper.WriteTo);
                break;
        }

        map.WriteTo(w);
    }

    internal static BootstrapBlockRoot ReadFrom(CborReader r)
    {
        string? kind = null, device = null, fstype = null, lower = null;
        BootstrapBlockRootUpper? upper = null;
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "kind": kind = r.ReadTextString(); return true;
                case "device": device = r.ReadTextString(); return true;
                case "fstype": fstype = CborFields.ReadOptionalString(r); return true;
                case "lower": lower = r.ReadTextString(); return true;
                case "upper": upper = BootstrapBlockRootUpper.ReadFrom(r); return true;
                default: return false;
            }
        });
        return kind switch
        {
            "disk-image" => new DiskImage(device ?? throw new CborContentException("disk-image block root lacks device"), fstype, upper),
            "oci-erofs" => new OciErofs(
                lower ?? throw new CborContentException("oci-erofs block root lacks lower"),
                upper ?? throw new CborContentException("oci-erofs block root lacks upper")),
            _ => throw new CborContentException($"unknown block root kind {kind}"),
        };
    }
}

/// <summary>Writable upper of an EROFS root (closed set; internally tagged with <c>"kind"</c>).</summary>
public abstract record BootstrapBlockRootUpper
{
    private BootstrapBlockRootUpper() { }

    /// <summary>A writable block device (<c>kind: device</c>).</summary>
    /// <param name="Device">Guest block device.</param>
    /// <param name="Fstype">Filesystem type on it.</param>
    public sealed record BlockDevice(string Device, string Fstype) : BootstrapBlockRootUpper;

    /// <summary>RAM-backed upper (<c>kind: tmpfs</c>).</summary>
    /// <param name="SizeMib">Size limit in MiB (omitted when null).</param>
    public sealed record Tmpfs(uint? SizeMib = null) : BootstrapBlockRootUpper;

    internal void WriteTo(CborWriter w)
    {
        var map = new FieldList();
        switch (this)
        {
            case BlockDevice d:
                map.Add("kind", x => x.WriteTextString("device"));
                map.Add("device", x => x.WriteTextString(d.Device));
                map.Add("fstype", x => x.WriteTextString(d.Fstype));
                break;
            case Tmpfs t:
                map.Add("kind", x => x.WriteTextString("tmpfs"));
                if (t.SizeMib is { } size) map.Add("size_mib", x => x.WriteUInt32(size));
                break;
        }

        map.WriteTo(w);
    }

    internal static BootstrapBlockRootUpper ReadFrom(CborReader r)
    {
        string? kind = null, device = null, fstype = null;
        uint? size = null;
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "kind": kind = r.ReadTextString(); return true;
                case "device": device = r.ReadTextString(); return true;
                case "fstype": fstype = r.ReadTextString(); return true;
                case "size_mib": size = CborFields.ReadOptionalUInt32(r); return true;
                default: return false;
            }
        });
        return kind switch
        {
            "device" => new BlockDevice(device ?? throw new CborContentException("device upper lacks device"), fstype ?? ""),
            "tmpfs" => new Tmpfs(size),
            _ => throw new CborContentException($"unknown block root upper kind {kind}"),
        };
    }
}

/// <summary>Common guest mount flags (all four always on the wire).</summary>
/// <param name="Readonly">Mount read-only.</param>
/// <param name="Noexec">No execution from the mount.</param>
/// <param name="Nosuid">Ignore set-uid/set-gid bits.</param>
/// <param name="Nodev">No device nodes.</param>
public sealed record BootstrapMountFlags(bool Readonly = false, bool Noexec = false, bool Nosuid = false, bool Nodev = false)
{
    internal void WriteTo(CborWriter w)
    {
        w.WriteStartMap(4);
        w.WriteTextString("readonly");
        w.WriteBoolean(Readonly);
        w.WriteTextString("noexec");
        w.WriteBoolean(Noexec);
        w.WriteTextString("nosuid");
        w.WriteBoolean(Nosuid);
        w.WriteTextString("nodev");
        w.WriteBoolean(Nodev);
        w.WriteEndMap();
    }

    internal static BootstrapMountFlags ReadFrom(CborReader r)
    {
        bool ro = false, noexec = false, nosuid = false, nodev = false;
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "readonly": ro = r.ReadBoolean(); return true;
                case "noexec": noexec = r.ReadBoolean(); return true;
                case "nosuid": nosuid = r.ReadBoolean(); return true;
                case "nodev": nodev = r.ReadBoolean(); return true;
                default: return false;
            }
        });
        return new BootstrapMountFlags(ro, noexec, nosuid, nodev);
    }
}

/// <summary>A directory share mounted in the guest.</summary>
/// <param name="Tag">Device tag of the share (virtiofs upstream; the QEMU engine uses it as the 9p mount tag).</param>
/// <param name="GuestPath">Absolute guest mount point.</param>
/// <param name="Flags">Mount flags.</param>
public sealed record BootstrapDirMount(string Tag, string GuestPath, BootstrapMountFlags Flags)
{
    internal void WriteTo(CborWriter w)
    {
        w.WriteStartMap(3);
        w.WriteTextString("tag");
        w.WriteTextString(Tag);
        w.WriteTextString("guest_path");
        w.WriteTextString(GuestPath);
        w.WriteTextString("flags");
        Flags.WriteTo(w);
        w.WriteEndMap();
    }

    internal static BootstrapDirMount ReadFrom(CborReader r)
    {
        string tag = "", path = "";
        var flags = new BootstrapMountFlags();
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "tag": tag = r.ReadTextString(); return true;
                case "guest_path": path = r.ReadTextString(); return true;
                case "flags": flags = BootstrapMountFlags.ReadFrom(r); return true;
                default: return false;
            }
        });
        return new BootstrapDirMount(tag, path, flags);
    }
}

/// <summary>A single-file share: the share holding <see cref="Filename"/> is bind-mounted onto <see cref="GuestPath"/>.</summary>
/// <param name="Tag">Device tag of the staging share.</param>
/// <param name="Filename">File name inside the share.</param>
/// <param name="GuestPath">Absolute guest file path.</param>
/// <param name="Flags">Mount flags.</param>
public sealed record BootstrapFileMount(string Tag, string Filename, string GuestPath, BootstrapMountFlags Flags)
{
    internal void WriteTo(CborWriter w)
    {
        w.WriteStartMap(4);
        w.WriteTextString("tag");
        w.WriteTextString(Tag);
        w.WriteTextString("filename");
        w.WriteTextString(Filename);
        w.WriteTextString("guest_path");
        w.WriteTextString(GuestPath);
        w.WriteTextString("flags");
        Flags.WriteTo(w);
        w.WriteEndMap();
    }

    internal static BootstrapFileMount ReadFrom(CborReader r)
    {
        string tag = "", name = "", path = "";
        var flags = new BootstrapMountFlags();
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "tag": tag = r.ReadTextString(); return true;
                case "filename": name = r.ReadTextString(); return true;
                case "guest_path": path = r.ReadTextString(); return true;
                case "flags": flags = BootstrapMountFlags.ReadFrom(r); return true;
                default: return false;
            }
        });
        return new BootstrapFileMount(tag, name, path, flags);
    }
}

/// <summary>An extra block device mounted in the guest.</summary>
/// <param name="Id">Block device serial (found as <c>/dev/disk/by-id/virtio-&lt;id&gt;</c> or via <c>/sys/block/*/serial</c>).</param>
/// <param name="GuestPath">Absolute guest mount point.</param>
/// <param name="Fstype">Filesystem type, or null to probe (omitted when null).</param>
/// <param name="Flags">Mount flags.</param>
public sealed record BootstrapDiskMount(string Id, string GuestPath, string? Fstype, BootstrapMountFlags Flags)
{
    internal void WriteTo(CborWriter w)
    {
        var map = new FieldList();
        map.Add("id", x => x.WriteTextString(Id));
        map.Add("guest_path", x => x.WriteTextString(GuestPath));
        if (Fstype is not null) map.Add("fstype", x => x.WriteTextString(Fstype));
        map.Add("flags", Flags.WriteTo);
        map.WriteTo(w);
    }

    internal static BootstrapDiskMount ReadFrom(CborReader r)
    {
        string id = "", path = "";
        string? fstype = null;
        var flags = new BootstrapMountFlags();
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "id": id = r.ReadTextString(); return true;
                case "guest_path": path = r.ReadTextString(); return true;
                case "fstype": fstype = CborFields.ReadOptionalString(r); return true;
                case "flags": flags = BootstrapMountFlags.ReadFrom(r); return true;
                default: return false;
            }
        });
        return new BootstrapDiskMount(id, path, fstype, flags);
    }
}

/// <summary>A tmpfs mount.</summary>
/// <param name="Path">Absolute guest mount point.</param>
/// <param name="SizeMib">Size limit in MiB (omitted when null).</param>
/// <param name="Mode">Mode of the tmpfs root (omitted when null).</param>
/// <param name="Flags">Mount flags.</param>
public sealed record BootstrapTmpfsMount(string Path, uint? SizeMib, uint? Mode, BootstrapMountFlags Flags)
{
    internal void WriteTo(CborWriter w)
    {
        var map = new FieldList();
        map.Add("path", x => x.WriteTextString(Path));
        if (SizeMib is { } size) map.Add("size_mib", x => x.WriteUInt32(size));
        if (Mode is { } mode) map.Add("mode", x => x.WriteUInt32(mode));
        map.Add("flags", Flags.WriteTo);
        map.WriteTo(w);
    }

    internal static BootstrapTmpfsMount ReadFrom(CborReader r)
    {
        var path = "";
        uint? size = null, mode = null;
        var flags = new BootstrapMountFlags();
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "path": path = r.ReadTextString(); return true;
                case "size_mib": size = CborFields.ReadOptionalUInt32(r); return true;
                case "mode": mode = CborFields.ReadOptionalUInt32(r); return true;
                case "flags": flags = BootstrapMountFlags.ReadFrom(r); return true;
                default: return false;
            }
        });
        return new BootstrapTmpfsMount(path, size, mode, flags);
    }
}

/// <summary>Guest network interface. Addresses travel as CBOR arrays of octets (serde's compact form), the MAC as 6 integers.</summary>
/// <param name="Interface">Interface name, e.g. <c>eth0</c>.</param>
/// <param name="Mac">6-byte MAC address.</param>
/// <param name="Mtu">MTU.</param>
/// <param name="Ipv4">IPv4 configuration (omitted when null).</param>
/// <param name="Ipv6">IPv6 configuration (omitted when null).</param>
public sealed record BootstrapNetwork(string Interface, byte[] Mac, ushort Mtu, BootstrapIp? Ipv4 = null, BootstrapIp? Ipv6 = null)
{
    internal void WriteTo(CborWriter w)
    {
        if (Mac.Length != 6)
        {
            throw new InvalidConfigException($"network.mac must be 6 bytes, got {Mac.Length}");
        }

        var map = new FieldList();
        map.Add("interface", x => x.WriteTextString(Interface));
        map.Add("mac", x => CborFields.WriteByteArray(x, Mac));
        map.Add("mtu", x => x.WriteUInt32(Mtu));
        if (Ipv4 is not null) map.Add("ipv4", Ipv4.WriteTo);
        if (Ipv6 is not null) map.Add("ipv6", Ipv6.WriteTo);
        map.WriteTo(w);
    }

    internal static BootstrapNetwork ReadFrom(CborReader r)
    {
        var iface = "";
        byte[] mac = [];
        ushort mtu = 0;
        BootstrapIp? v4 = null, v6 = null;
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "interface": iface = r.ReadTextString(); return true;
                case "mac": mac = CborFields.ReadBytes(r); return true;
                case "mtu": mtu = checked((ushort)r.ReadUInt32()); return true;
                case "ipv4": v4 = CborFields.IsNull(r) ? null : BootstrapIp.ReadFrom(r); return true;
                case "ipv6": v6 = CborFields.IsNull(r) ? null : BootstrapIp.ReadFrom(r); return true;
                default: return false;
            }
        });
        return new BootstrapNetwork(iface, mac, mtu, v4, v6);
    }

    /// <inheritdoc/>
    public bool Equals(BootstrapNetwork? other) =>
        other is not null && Interface == other.Interface && Mac.AsSpan().SequenceEqual(other.Mac) && Mtu == other.Mtu
        && Equals(Ipv4, other.Ipv4) && Equals(Ipv6, other.Ipv6);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Interface, Mtu, Ipv4, Ipv6);
}

/// <summary>Guest IPv4 or IPv6 address configuration.</summary>
/// <param name="Address">Guest address.</param>
/// <param name="PrefixLen">CIDR prefix length.</param>
/// <param name="Gateway">Default gateway.</param>
/// <param name="Dns">DNS resolver (omitted when null).</param>
public sealed record BootstrapIp(IPAddress Address, byte PrefixLen, IPAddress Gateway, IPAddress? Dns = null)
{
    internal void WriteTo(CborWriter w)
    {
        var map = new FieldList();
        map.Add("address", x => CborFields.WriteByteArray(x, Address.GetAddressBytes()));
        map.Add("prefix_len", x => x.WriteUInt32(PrefixLen));
        map.Add("gateway", x => CborFields.WriteByteArray(x, Gateway.GetAddressBytes()));
        if (Dns is not null) map.Add("dns", x => CborFields.WriteByteArray(x, Dns.GetAddressBytes()));
        map.WriteTo(w);
    }

    internal static BootstrapIp ReadFrom(CborReader r)
    {
        IPAddress address = IPAddress.Any, gateway = IPAddress.Any;
        IPAddress? dns = null;
        byte prefix = 0;
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "address": address = new IPAddress(CborFields.ReadBytes(r)); return true;
                case "prefix_len": prefix = checked((byte)r.ReadUInt32()); return true;
                case "gateway": gateway = new IPAddress(CborFields.ReadBytes(r)); return true;
                case "dns": dns = CborFields.IsNull(r) ? null : new IPAddress(CborFields.ReadBytes(r)); return true;
                default: return false;
            }
        });
        return new BootstrapIp(address, prefix, gateway, dns);
    }

    /// <summary>Whether this is an IPv6 configuration.</summary>
    public bool IsIpv6 => Address.AddressFamily == AddressFamily.InterNetworkV6;
}

/// <summary>One baseline environment entry.</summary>
/// <param name="Key">Variable name.</param>
/// <param name="Value">Variable value.</param>
public sealed record BootstrapEnvVar(string Key, string Value)
{
    internal void WriteTo(CborWriter w)
    {
        w.WriteStartMap(2);
        w.WriteTextString("key");
        w.WriteTextString(Key);
        w.WriteTextString("value");
        w.WriteTextString(Value);
        w.WriteEndMap();
    }

    internal static BootstrapEnvVar ReadFrom(CborReader r)
    {
        string key = "", value = "";
        CborFields.ReadMap(r, k =>
        {
            switch (k)
            {
                case "key": key = r.ReadTextString(); return true;
                case "value": value = r.ReadTextString(); return true;
                default: return false;
            }
        });
        return new BootstrapEnvVar(key, value);
    }
}

/// <summary>Hand PID 1 over to another init after the agent's setup.</summary>
/// <param name="Cmd">Absolute init path in the guest, or <c>auto</c>.</param>
public sealed record BootstrapHandoffInit(string Cmd)
{
    /// <summary>Arguments after argv[0] (omitted when empty).</summary>
    public IReadOnlyList<string> Args { get; init; } = [];
    /// <summary>Working directory entered before the hand-over (omitted when null).</summary>
    public string? Cwd { get; init; }
    /// <summary>Environment merged over the inherited one (omitted when empty).</summary>
    public IReadOnlyList<BootstrapEnvVar> Env { get; init; } = [];

    internal void WriteTo(CborWriter w)
    {
        var map = new FieldList();
        map.Add("cmd", x => x.WriteTextString(Cmd));
        if (Args.Count > 0) map.Add("args", x => CborFields.WriteStrings(x, Args));
        if (Cwd is not null) map.Add("cwd", x => x.WriteTextString(Cwd));
        if (Env.Count > 0) map.Add("env", x => CborFields.WriteArray(x, Env, static (y, e) => e.WriteTo(y)));
        map.WriteTo(w);
    }

    internal static BootstrapHandoffInit ReadFrom(CborReader r)
    {
        var cmd = "";
        List<string> args = [];
        string? cwd = null;
        List<BootstrapEnvVar> env = [];
        CborFields.ReadMap(r, key =>
        {
            switch (key)
            {
                case "cmd": cmd = r.ReadTextString(); return true;
                case "args": args = CborFields.ReadStrings(r); return true;
                case "cwd": cwd = CborFields.ReadOptionalString(r); return true;
                case "env": env = CborFields.ReadArray(r, BootstrapEnvVar.ReadFrom); return true;
                default: return false;
            }
        });
        return new BootstrapHandoffInit(cmd) { Args = args, Cwd = cwd, Env = env };
    }

    /// <inheritdoc/>
    public bool Equals(BootstrapHandoffInit? other) =>
        other is not null && Cmd == other.Cmd && Args.SequenceEqual(other.Args) && Cwd == other.Cwd && Env.SequenceEqual(other.Env);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Cmd, Cwd, Args.Count, Env.Count);
}

/// <summary>Collects the fields of a map whose size depends on which optional fields are present.</summary>
internal sealed class FieldList
{
    private readonly List<(string Key, Action<CborWriter> Write)> _fields = [];

    public void Add(string key, Action<CborWriter> write) => _fields.Add((key, write));

    public void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(_fields.Count);
        foreach (var (key, write) in _fields)
        {
            writer.WriteTextString(key);
            write(writer);
        }

        writer.WriteEndMap();
    }
}
