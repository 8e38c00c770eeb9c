namespace Microsandbox.Tests.Vm;

/// <summary>One sandbox with every kind of mount and patch the QEMU engine supports, checked from both sides.</summary>
public sealed class MountTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _host = Directory.CreateTempSubdirectory("msb-mounts-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_host, recursive: true);

    [Fact]
    public async Task Binds_tmpfs_patches_and_spec_user_apply_before_any_command()
    {
        VmEnvironment.RequireVm();
        var rw = Directory.CreateDirectory(Path.Combine(_host, "rw")).FullName;
        var ro = Directory.CreateDirectory(Path.Combine(_host, "ro")).FullName;
        File.SetUnixFileMode(rw, (UnixFileMode)0x1ff);
        await File.WriteAllTextAsync(Path.Combine(rw, "from-host.txt"), "host wrote this", Ct);
        await File.WriteAllTextAsync(Path.Combine(ro, "locked.txt"), "read only", Ct);

        // Patches need a root they may change (upstream refuses them on disk-image roots): a private copy of the
        // busybox tree, booted as a directory root.
        var root = Path.Combine(_host, "root");
        await CopyTreeAsync(Path.Combine(NativeOutputs.Directory, "rootfs"), root);

        await using var sb = await Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("mounts"))
                .Image(root)
                .Ephemeral()
                .User("nobody")
                .Volume("/data", m => m.Bind(rw))
                .Volume("/config", m => m.Bind(ro).Readonly())
                .Volume("/scratch", m => m.Tmpfs().Size(16u))
                .Patch(p => p.Text("/etc/motd", "patched before boot\n", null, true).Mkdir("/opt/app", 0x1ed).Symlink("/opt/app", "/srv/app")),
            VmEnvironment.Options(output), Ct);

        // Spec user.
        Assert.Equal("65534", (await sb.ExecAsync("id", ["-u"], Ct)).Stdout.Trim());

        // Read-write bind: visible both ways.
        Assert.Equal("host wrote this", (await sb.ExecAsync("cat", ["/data/from-host.txt"], Ct)).Stdout);
        var w = await sb.ShellAsync("echo guest wrote this > /data/from-guest.txt", Ct);
        Assert.Equal(0, w.ExitCode);
        Assert.Equal("guest wrote this\n", await File.ReadAllTextAsync(Path.Combine(rw, "from-guest.txt"), Ct));

        // Read-only bind: readable, writes refused by the guest kernel.
        Assert.Equal("read only", (await sb.ExecAsync("cat", ["/config/locked.txt"], Ct)).Stdout);
        var denied = await sb.ShellAsync("echo nope > /config/new.txt", Ct);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("Read-only file system", denied.Stderr);
        Assert.False(File.Exists(Path.Combine(ro, "new.txt")));

        // tmpfs honours its size: 16 MiB fits 10 MiB, not 20 MiB.
        var df = await sb.ExecAsync("df", ["-k", "/scratch"], Ct);
        var sizeKb = long.Parse(df.Stdout.Split('\n')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(16 * 1024, sizeKb);
        // (as root: the tmpfs root belongs to root, the spec's user is nobody)
        static ExecCommand Fill(string file, int mib) =>
            new ExecCommand("dd") { Arguments = ["if=/dev/zero", $"of=/scratch/{file}", "bs=1M", $"count={mib}"], User = "root" };
        Assert.Equal(0, (await sb.ExecAsync(Fill("ten", 10), Ct)).ExitCode);
        var over = await sb.ExecAsync(Fill("twenty", 20), Ct);
        Assert.NotEqual(0, over.ExitCode);
        Assert.Contains("No space left on device", over.Stderr);

        // Patches were applied before the first command.
        Assert.Equal("patched before boot\n", (await sb.ExecAsync("cat", ["/etc/motd"], Ct)).Stdout);
        Assert.Equal("/opt/app", (await sb.ExecAsync("readlink", ["/srv/app"], Ct)).Stdout.Trim());
        Assert.Contains("drwxr-xr-x", (await sb.ExecAsync("ls", ["-ld", "/opt/app"], Ct)).Stdout);
        Assert.True(File.Exists(Path.Combine(root, "etc", "motd")), "a directory root is the host tree itself");
    }

    private static async Task CopyTreeAsync(string from, string to)
    {
        // cp -a keeps symlinks, modes and owners of the image tree.
        var psi = new System.Diagnostics.ProcessStartInfo("/bin/cp") { ArgumentList = { "-a", from, to } };
        using var cp = System.Diagnostics.Process.Start(psi)!;
        await cp.WaitForExitAsync(Ct);
        Assert.Equal(0, cp.ExitCode);
    }
}
