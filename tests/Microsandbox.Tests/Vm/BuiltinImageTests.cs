namespace Microsandbox.Tests.Vm;

/// <summary>
/// The QEMU engine boots the built-in busybox image from the initramfs that carries it (no root disk): the guest
/// must still see an ordinary writable root with the image's owners and modes.
/// </summary>
[Collection(SharedSandboxCollection.Name)]
public sealed class BuiltinImageTests(SharedSandboxFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Builtin_image_root_is_a_private_tmpfs_without_a_root_disk()
    {
        var mounts = await fixture.Sandbox.ExecAsync("cat", ["/proc/mounts"], Ct);
        var root = mounts.Stdout.Split('\n').Single(l => l.Split(' ') is [_, "/", ..]);
        Assert.StartsWith("tmpfs / tmpfs rw", root);
        Assert.DoesNotContain("/dev/vd", mounts.Stdout);

        // busybox df skips mounts whose source is the kernel's rootfs; the root must be a mount it can report
        var df = await fixture.Sandbox.ExecAsync("df", ["/"], Ct);
        Assert.Equal(0, df.ExitCode);
        Assert.EndsWith("/\n", df.Stdout);

        // the initramfs staging copy is gone once the root is assembled
        var staged = await fixture.Sandbox.ExecAsync("ls", ["/rootfs"], Ct);
        Assert.NotEqual(0, staged.ExitCode);
    }

    [Fact]
    public async Task Builtin_image_keeps_owners_modes_and_symlinks()
    {
        var r = await fixture.Sandbox.ExecAsync("stat", ["-c", "%n %u:%g %a", "/home/user", "/root", "/tmp", "/etc/shadow"], Ct);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("/home/user 1000:1000 755\n/root 0:0 700\n/tmp 0:0 1777\n/etc/shadow 0:0 640\n", r.Stdout);
        var link = await fixture.Sandbox.ExecAsync("readlink", ["/bin/sh"], Ct);
        Assert.Equal("/bin/busybox\n", link.Stdout);
    }
}
