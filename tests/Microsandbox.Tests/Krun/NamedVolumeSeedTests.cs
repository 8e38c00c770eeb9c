using Microsandbox.Host;
using Microsandbox.Spawn;
using Microsandbox.Spec;
using Microsandbox.State;
using SpecVolumeKind = Microsandbox.Spec.VolumeKind;
using StateVolumeKind = Microsandbox.State.VolumeKind;

namespace Microsandbox.Tests.Krun;

/// <summary>
/// The named-volume and disk-lock tests of seed microsandbox-0.5.10 <c>runtime/spawn.rs</c>, against
/// <see cref="NamedVolumes"/>, <see cref="DiskLocks"/> and a real state catalog in a temporary home.
/// </summary>
public sealed class NamedVolumeSeedTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("msbvol-").FullName;
    private readonly MicrosandboxHome _home;
    private readonly string _rootfs;

    public NamedVolumeSeedTests()
    {
        _home = new MicrosandboxHome(Path.Combine(_root, "home"));
        _rootfs = Directory.CreateDirectory(Path.Combine(_root, "rootfs")).FullName;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private SandboxBuilder Builder() => new SandboxBuilder("test").Image(ImageSource.FromPath(_rootfs));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static NamedVolumeCreate Request(string name, SpecVolumeKind kind, uint? quota = null, uint? capacity = null, params (string, string)[] labels) =>
        new() { Mode = NamedVolumeMode.EnsureExists, Name = name, Kind = kind, QuotaMib = quota, CapacityMib = capacity, Labels = labels };

    private static VolumeRecord Existing(string name, StateVolumeKind kind, int? quota = null, long? capacity = null, Dictionary<string, string>? labels = null) =>
        new(1, name, kind, quota, null, capacity, kind == StateVolumeKind.Disk ? "raw" : null, kind == StateVolumeKind.Disk ? "ext4" : null,
            labels ?? [], DateTime.UtcNow, DateTime.UtcNow);

    [Fact] // test_validate_existing_named_volume_rejects_quota_mismatch
    public void Existing_volume_with_another_quota_is_rejected()
    {
        var e = Assert.Throws<InvalidConfigException>(() =>
            NamedVolumes.ValidateExisting(Request("mydir", SpecVolumeKind.Directory, quota: 1024), Existing("mydir", StateVolumeKind.Dir, quota: 512)));
        Assert.Contains("quota", e.Message, StringComparison.Ordinal);
    }

    [Fact] // test_validate_existing_named_volume_rejects_capacity_mismatch
    public void Existing_volume_with_another_capacity_is_rejected()
    {
        var e = Assert.Throws<InvalidConfigException>(() =>
            NamedVolumes.ValidateExisting(Request("mydisk", SpecVolumeKind.Disk, capacity: 2048), Existing("mydisk", StateVolumeKind.Disk, capacity: 1024L * 1024 * 1024)));
        Assert.Contains("capacity", e.Message, StringComparison.Ordinal);
    }

    [Fact] // test_validate_existing_named_volume_rejects_requested_label_mismatch
    public void Existing_volume_with_another_label_value_is_rejected()
    {
        var e = Assert.Throws<InvalidConfigException>(() =>
            NamedVolumes.ValidateExisting(Request("mydir", SpecVolumeKind.Directory, labels: ("env", "prod")),
                Existing("mydir", StateVolumeKind.Dir, labels: new() { ["env"] = "dev" })));
        Assert.Contains("label", e.Message, StringComparison.Ordinal);
    }

    [Fact] // test_validate_existing_named_volume_allows_extra_existing_labels
    public void Existing_volume_may_have_extra_labels() =>
        NamedVolumes.ValidateExisting(Request("mydir", SpecVolumeKind.Directory, labels: ("env", "prod")),
            Existing("mydir", StateVolumeKind.Dir, labels: new() { ["env"] = "prod", ["team"] = "runtime" }));

    [Fact] // test_ensure_named_volumes_rolls_back_db_row_on_provision_failure
    public async Task A_volume_that_cannot_be_provisioned_leaves_no_row()
    {
        Directory.CreateDirectory(Path.Combine(_home.Root, "volumes"));
        await File.WriteAllTextAsync(Path.Combine(_home.Root, "volumes", "broken"), "not a directory", Ct);
        var spec = Builder().Volume("/data", m => m.NamedWith("broken", v => v.EnsureExists())).Build().Spec;
        await using var store = await StateStore.OpenAsync(_home.Root, Ct);

        var e = await Assert.ThrowsAsync<MicrosandboxException>(() => NamedVolumes.EnsureAsync(store, _home, spec, Ct));

        Assert.Contains("already exists", e.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetVolumeAsync("broken", Ct));
    }

    [Fact] // test_ensure_named_volumes_rolls_back_earlier_created_volumes_on_later_failure
    public async Task A_later_failure_rolls_back_volumes_created_earlier()
    {
        var spec = Builder()
            .Volume("/ok", m => m.NamedWith("first-created", v => v.EnsureExists()))
            .Volume("/bad", m => m.NamedWith("bad-disk", v => v.EnsureExists().Disk()))
            .Build().Spec;
        await using var store = await StateStore.OpenAsync(_home.Root, Ct);

        var e = await Assert.ThrowsAsync<InvalidConfigException>(() => NamedVolumes.EnsureAsync(store, _home, spec, Ct));

        Assert.Contains("disk named volumes require", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(NamedVolumes.VolumePath(_home, "first-created")));
        Assert.Null(await store.GetVolumeAsync("first-created", Ct));
    }

    [Fact]
    public async Task Ensure_creates_a_directory_volume_row_and_directory_then_accepts_it_again()
    {
        var spec = Builder().Volume("/data", m => m.NamedWith("cache", v => v.Quota(64).Label("env", "ci").EnsureExists())).Build().Spec;
        await using var store = await StateStore.OpenAsync(_home.Root, Ct);

        using (var ensured = await NamedVolumes.EnsureAsync(store, _home, spec, Ct))
            Assert.Equal([new CreatedNamedVolume("cache", NamedVolumes.VolumePath(_home, "cache"))], ensured.Created);
        var row = await store.GetVolumeAsync("cache", Ct);
        Assert.NotNull(row);
        Assert.Equal(64, row.QuotaMib);
        Assert.Equal("ci", row.Labels["env"]);
        Assert.True(Directory.Exists(NamedVolumes.VolumePath(_home, "cache")));
        using (var again = await NamedVolumes.EnsureAsync(store, _home, spec, Ct))
            Assert.True(again.IsEmpty);
        var resolved = await NamedVolumes.ResolveAsync(store, _home, spec, Ct);
        Assert.Equal(new ResolvedNamedVolume(SpecVolumeKind.Directory, NamedVolumes.VolumePath(_home, "cache"), QuotaMib: 64), resolved["cache"]);
    }

    [Fact] // test_resolve_named_volumes_recovers_disk_metadata_from_store
    public async Task Resolve_reads_disk_metadata_from_the_store()
    {
        await using var store = await StateStore.OpenAsync(_home.Root, Ct);
        await store.CreateVolumeAsync(new NewVolume("mydata", StateVolumeKind.Disk, CapacityBytes: 64L * 1024 * 1024), Ct);
        var spec = Builder().Volume("/data", m => m.Named("mydata")).Build().Spec;

        var resolved = await NamedVolumes.ResolveAsync(store, _home, spec, Ct);

        var volume = resolved["mydata"];
        Assert.Equal(SpecVolumeKind.Disk, volume.Kind);
        Assert.Equal(DiskImageFormat.Raw, volume.Format);
        Assert.Equal("ext4", volume.Fstype);
        Assert.Equal(Path.Combine(NamedVolumes.VolumePath(_home, "mydata"), "disk.raw"), volume.Path);
        var launch = LaunchPlanner.Plan(spec, 1, _home, resolved);
        var tag = GuestNames.MountTag("/data");
        Assert.Equal([$"{tag}:{volume.Path}:raw"], launch.Disks);
        var dm = Assert.Single(launch.Bootstrap["disk_mounts"]!.AsArray())!;
        Assert.Equal("/data", (string?)dm["guest_path"]);
        Assert.Equal("ext4", (string?)dm["fstype"]);
    }

    [Fact] // test_existing_named_volume_mode_does_not_validate_default_metadata
    public async Task Existing_mode_does_not_compare_default_metadata()
    {
        await using var store = await StateStore.OpenAsync(_home.Root, Ct);
        await store.CreateVolumeAsync(new NewVolume("docker-data", StateVolumeKind.Disk, CapacityBytes: 2048L * 1024 * 1024), Ct);
        var spec = Builder().Volume("/var/lib/docker", m => m.Named("docker-data")).Build().Spec;
        var named = (VolumeMount.Named)spec.Mounts[0];
        spec = spec with { Mounts = [named with { Create = new NamedVolumeCreate { Mode = NamedVolumeMode.Existing, Name = "docker-data", Kind = SpecVolumeKind.Directory } }] };

        using var ensured = await NamedVolumes.EnsureAsync(store, _home, spec, Ct);

        Assert.True(ensured.IsEmpty);
    }

    [Fact]
    public async Task Ensure_makes_an_ext4_disk_volume_of_the_requested_size()
    {
        if (!File.Exists("/usr/sbin/mkfs.ext4") && !File.Exists("/sbin/mkfs.ext4")) Assert.Skip("mkfs.ext4 (e2fsprogs) is not installed");
        var spec = Builder().Volume("/data", m => m.NamedWith("blk", v => v.Disk().Size(16).EnsureExists())).Build().Spec;
        await using var store = await StateStore.OpenAsync(_home.Root, Ct);

        using (await NamedVolumes.EnsureAsync(store, _home, spec, Ct)) { }

        var disk = Path.Combine(NamedVolumes.VolumePath(_home, "blk"), "disk.raw");
        Assert.Equal(16L * 1024 * 1024, new FileInfo(disk).Length);
        // ext4 superblock magic 0xEF53 at byte 1024 + 56.
        var bytes = await File.ReadAllBytesAsync(disk, Ct);
        Assert.Equal(0x53, bytes[1024 + 56]);
        Assert.Equal(0xEF, bytes[1024 + 57]);
        Assert.Equal(16L * 1024 * 1024, (await store.GetVolumeAsync("blk", Ct))!.CapacityBytes);
    }

    [Fact] // test_lock_disk_mounts_rejects_rootfs_and_mount_same_path
    public void The_root_disk_cannot_also_be_mounted()
    {
        var disk = Path.Combine(_root, "root.raw");
        File.WriteAllText(disk, "disk");
        var spec = new SandboxBuilder("test").Image(i => i.Disk(disk)).Volume("/data", m => m.Disk(disk)).Build().Spec;

        var e = Assert.Throws<InvalidConfigException>(() => DiskLocks.Acquire(spec, null, rootReadonly: false));

        Assert.Contains("more than once per sandbox", e.Message, StringComparison.Ordinal);
    }

    [Fact] // test_lock_disk_mounts_rejects_duplicate_named_disk_volume
    public void A_named_disk_volume_cannot_be_mounted_twice()
    {
        var disk = Path.Combine(_root, "disk.raw");
        File.WriteAllText(disk, "disk");
        var spec = Builder().Volume("/data-a", m => m.Named("data")).Volume("/data-b", m => m.Named("data")).Build().Spec;
        var named = new Dictionary<string, ResolvedNamedVolume> { ["data"] = new(SpecVolumeKind.Disk, disk, DiskImageFormat.Raw, "ext4") };

        var e = Assert.Throws<InvalidConfigException>(() => DiskLocks.Acquire(spec, named, rootReadonly: false));

        Assert.Contains("more than once per sandbox", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Writable_disks_are_exclusive_and_read_only_disks_are_shared()
    {
        var disk = Path.Combine(_root, "shared.raw");
        File.WriteAllText(disk, "disk");
        var readOnly = Builder().Volume("/d", m => m.Disk(disk).Readonly()).Build().Spec;
        var writable = Builder().Volume("/d", m => m.Disk(disk)).Build().Spec;

        using (var first = DiskLocks.Acquire(readOnly, null, rootReadonly: true))
        using (var second = DiskLocks.Acquire(readOnly, null, rootReadonly: true))
        {
            Assert.Equal([disk], first.Paths);
            var e = Assert.Throws<InvalidConfigException>(() => DiskLocks.Acquire(writable, null, rootReadonly: false));
            Assert.Contains("already attached with an incompatible disk mode", e.Message, StringComparison.Ordinal);
        }
        using var exclusive = DiskLocks.Acquire(writable, null, rootReadonly: false);
        Assert.Throws<InvalidConfigException>(() => DiskLocks.Acquire(readOnly, null, rootReadonly: true));
    }
}
