using System.Text.Json.Nodes;
using Microsandbox.Host;
using Microsandbox.Runtime;
using Microsandbox.Spec;

namespace Microsandbox.Spawn;

/// <summary>
/// Renders a sandbox spec into the launch config a sandbox process reads (upstream <c>sandbox_cli_args</c>):
/// directories, lifecycle, metrics, the root filesystem, shares and disks, and the guest bootstrap document.
/// Engine-neutral: an engine adds its own section afterwards.
/// </summary>
public static class LaunchPlanner
{
    /// <summary>Builds the launch config. The spec's image must already be resolved to a bind directory or a disk image.</summary>
    public static LaunchConfig Plan(SandboxSpec spec, int sandboxId, MicrosandboxHome home) => Plan(spec, sandboxId, home, null);

    /// <summary>
    /// Builds the launch config with named volumes resolved by <see cref="NamedVolumes.ResolveAsync"/> (disk volumes
    /// become block devices, directory volumes shares with their quota). Without them, a named mount is a directory
    /// share of <c>volumes/NAME</c>. Single-file binds are staged under the sandbox's runtime directory.
    /// </summary>
    public static LaunchConfig Plan(SandboxSpec spec, int sandboxId, MicrosandboxHome home, IReadOnlyDictionary<string, ResolvedNamedVolume>? namedVolumes)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(home);
        var name = spec.Name;
        var bootstrap = new JsonObject();
        var rootfs = new LaunchRootfs();
        switch (spec.Image)
        {
            case RootfsSource.Bind bind:
                rootfs = rootfs with { Path = bind.Path };
                break;
            case RootfsSource.DiskImage disk:
                rootfs = rootfs with { Disk = disk.Path, DiskFormat = disk.Format.AsStr() };
                var blockRoot = new JsonObject { ["kind"] = "disk-image", ["device"] = "/dev/vda" };
                if (disk.Fstype is { } fstype) blockRoot["fstype"] = fstype;
                bootstrap["block_root"] = blockRoot;
                break;
            case RootfsSource.Oci oci:
                throw new MicrosandboxException($"image: OCI reference '{oci.Source.Reference}' must be resolved to a root filesystem before launch");
        }

        var mounts = new List<string>();
        var disks = new List<string>();
        var dirMounts = new JsonArray();
        var fileMounts = new JsonArray();
        var diskMounts = new JsonArray();
        var tmpfsMounts = new JsonArray();
        foreach (var mount in spec.Mounts)
        {
            var tag = GuestNames.MountTag(mount.Guest);
            switch (mount)
            {
                case VolumeMount.Bind bind:
                    if (File.Exists(bind.Host))
                    {
                        var staged = FileMountStaging.Stage(bind.Host, bind.Guest, Path.Combine(home.RuntimeDirectory(name), "file-mounts"));
                        mounts.Add(LaunchMountArgument.FormatDirectory(staged.Tag, staged.Directory, OptionTokens(bind.Options, bind.StatVirtualization, bind.HostPermissions, null)));
                        fileMounts.Add(new JsonObject { ["tag"] = staged.Tag, ["filename"] = staged.FileName, ["guest_path"] = bind.Guest, ["flags"] = Flags(bind.Options) });
                        break;
                    }
                    if (!Directory.Exists(bind.Host))
                        throw new MicrosandboxException($"mounts: bind source '{bind.Host}' for '{bind.Guest}' does not exist");
                    mounts.Add(LaunchMountArgument.FormatDirectory(tag, bind.Host, OptionTokens(bind.Options, bind.StatVirtualization, bind.HostPermissions, Config.SandboxConfig.EffectiveBindQuotaMib(bind))));
                    dirMounts.Add(DirMount(tag, bind.Guest, bind.Options));
                    break;
                case VolumeMount.Named named when namedVolumes is not null:
                    if (!namedVolumes.TryGetValue(named.Name, out var volume))
                        throw new MicrosandboxException($"volume not found: {named.Name}");
                    if (volume.Kind == VolumeKind.Disk)
                    {
                        disks.Add(LaunchMountArgument.FormatDisk(tag, volume.Path, (volume.Format ?? DiskImageFormat.Raw).AsStr(), named.Options.Readonly));
                        var nd = new JsonObject { ["id"] = tag, ["guest_path"] = named.Guest };
                        if (volume.Fstype is { } nfs) nd["fstype"] = nfs;
                        nd["flags"] = Flags(named.Options);
                        diskMounts.Add(nd);
                    }
                    else
                    {
                        mounts.Add(LaunchMountArgument.FormatDirectory(tag, volume.Path, OptionTokens(named.Options, named.StatVirtualization, named.HostPermissions, volume.QuotaMib)));
                        dirMounts.Add(DirMount(tag, named.Guest, named.Options));
                    }
                    break;
                case VolumeMount.Named named:
                    var volumeDir = Path.Combine(home.Root, "volumes", named.Name);
                    Directory.CreateDirectory(volumeDir);
                    mounts.Add(LaunchMountArgument.FormatDirectory(tag, volumeDir, OptionTokens(named.Options, named.StatVirtualization, named.HostPermissions, null)));
                    dirMounts.Add(DirMount(tag, named.Guest, named.Options));
                    break;
                case VolumeMount.Tmpfs tmpfs:
                    var t = new JsonObject { ["path"] = tmpfs.Guest };
                    if (tmpfs.SizeMib is { } size) t["size_mib"] = size;
                    t["flags"] = Flags(tmpfs.Options);
                    tmpfsMounts.Add(t);
                    break;
                case VolumeMount.DiskImage disk:
                    if (!File.Exists(disk.Host))
                        throw new MicrosandboxException($"mounts: disk image '{disk.Host}' for '{disk.Guest}' does not exist");
                    disks.Add(LaunchMountArgument.FormatDisk(tag, disk.Host, disk.Format.AsStr(), disk.Options.Readonly));
                    var d = new JsonObject { ["id"] = tag, ["guest_path"] = disk.Guest };
                    if (disk.Fstype is { } fs) d["fstype"] = fs;
                    d["flags"] = Flags(disk.Options);
                    diskMounts.Add(d);
                    break;
            }
        }
        if (dirMounts.Count > 0) bootstrap["dir_mounts"] = dirMounts;
        if (fileMounts.Count > 0) bootstrap["file_mounts"] = fileMounts;
        if (diskMounts.Count > 0) bootstrap["disk_mounts"] = diskMounts;
        if (tmpfsMounts.Count > 0) bootstrap["tmpfs_mounts"] = tmpfsMounts;
        bootstrap["hostname"] = spec.Runtime.Hostname ?? GuestNames.HostnameFor(name);
        if (spec.Rlimits.Count > 0)
            bootstrap["rlimits"] = new JsonArray(spec.Rlimits.Select(r => (JsonNode)new JsonObject { ["resource"] = r.Resource.AsStr(), ["soft"] = r.Soft, ["hard"] = r.Hard }).ToArray());
        if (spec.Runtime.User is { } user) bootstrap["user"] = user;
        if (spec.Runtime.Workdir is { } cwd) bootstrap["default_cwd"] = cwd;
        if (spec.Env.Count > 0)
            bootstrap["default_env"] = new JsonArray(spec.Env.Select(e => (JsonNode)new JsonObject { ["key"] = e.Key, ["value"] = e.Value }).ToArray());
        bootstrap["security_profile"] = spec.SecurityProfile == SecurityProfile.Restricted ? "restricted" : "default";
        if (spec.Init is { } init)
        {
            var h = new JsonObject { ["cmd"] = init.Cmd };
            if (init.Args.Count > 0) h["args"] = new JsonArray(init.Args.Select(a => (JsonNode)a).ToArray());
            if (spec.Runtime.Workdir is { } initCwd) h["cwd"] = initCwd;
            if (init.Env.Count > 0) h["env"] = new JsonArray(init.Env.Select(e => (JsonNode)new JsonObject { ["key"] = e.Key, ["value"] = e.Value }).ToArray());
            bootstrap["handoff_init"] = h;
        }

        var metricsInterval = spec.Runtime.DisableMetricsSample ? null : spec.Runtime.MetricsSampleIntervalMs;
        return new LaunchConfig
        {
            DbPath = home.DatabasePath,
            LogDir = home.LogDirectory(name),
            RuntimeDir = home.RuntimeDirectory(name),
            SandboxesDir = home.SandboxesDirectory,
            RunDir = home.RunDirectory,
            CpuLeaseDir = Path.Combine(home.RunDirectory, "cpu-leases"),
            WritebackLeaseDir = Path.Combine(home.RunDirectory, "writeback-leases"),
            AgentSock = home.AgentSocketPath(name),
            Lifecycle = new LaunchLifecycle { MaxDurationSecs = spec.Lifecycle.MaxDurationSecs, IdleTimeoutSecs = spec.Lifecycle.IdleTimeoutSecs },
            Metrics = metricsInterval is { } ms and > 0 ? new LaunchMetrics { SampleIntervalMs = ms } : new LaunchMetrics { Disabled = true },
            Rootfs = rootfs,
            Mounts = mounts,
            Disks = disks,
            Bootstrap = bootstrap,
            SandboxSlot = (ulong)sandboxId,
        };
    }

    private static JsonObject DirMount(string tag, string guest, MountOptions options) =>
        new() { ["tag"] = tag, ["guest_path"] = guest, ["flags"] = Flags(options) };

    private static JsonObject Flags(MountOptions o) =>
        new() { ["readonly"] = o.Readonly, ["noexec"] = o.Noexec, ["nosuid"] = o.Nosuid, ["nodev"] = o.Nodev };

    private static IEnumerable<string> OptionTokens(MountOptions o, StatVirtualization statVirt, HostPermissions perms, uint? quotaMib)
    {
        if (o.Readonly) yield return "ro";
        if (o.Noexec) yield return "noexec";
        if (o.Nosuid) yield return "nosuid";
        if (o.Nodev) yield return "nodev";
        if (statVirt == StatVirtualization.Relaxed) yield return "stat-virt=relaxed";
        if (statVirt == StatVirtualization.Off) yield return "stat-virt=off";
        if (perms == HostPermissions.Mirror) yield return "host-perms=mirror";
        if (quotaMib is { } q) yield return $"quota={q}";
    }
}
