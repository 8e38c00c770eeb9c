using System.Text;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.Services;

/// <summary>
/// Files copied in before the main process starts, with owner and mode (Testcontainers' resource mapping): the main
/// process itself sees them at its first instruction; the same with Fs on a running sandbox, and without a main
/// process before create returns.
/// </summary>
public sealed class CopyInTests(ITestOutputHelper output) : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _dir = Directory.CreateTempSubdirectory("msbcopy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Files_are_in_place_with_owner_and_mode_before_the_main_process_starts()
    {
        VmEnvironment.RequireVm();
        Directory.CreateDirectory(Path.Combine(_dir, "data", "sub"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "data", "a.txt"), "alpha", Ct);
        await File.WriteAllTextAsync(Path.Combine(_dir, "data", "sub", "b.txt"), "beta", Ct);
        File.SetUnixFileMode(Path.Combine(_dir, "data", "a.txt"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        await using var sb = await Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("copyin")).Image(BuiltinImages.Busybox).Ephemeral()
                .CopyIn(Encoding.UTF8.GetBytes("port=5432\n"), "/etc/app/config.txt", mode: 0x180 /* 0600 */, uid: 1000, gid: 1000)
                .CopyIn(Path.Combine(_dir, "data"), "/srv/data", uid: 1000, gid: 100)
                .Cmd("/bin/sh", "-c", "stat -c '%n %u:%g %a' /etc/app/config.txt /srv/data /srv/data/a.txt /srv/data/sub/b.txt; echo cfg=$(cat /etc/app/config.txt); exec sleep 1000")
                .MainProcess()
                .WaitFor(Wait.ForLogMessage("^cfg=")),
            VmEnvironment.Options(output), Ct);

        var lines = (await sb.GetLogsAsync(cancellationToken: Ct)).Select(l => l.Text).ToList();
        foreach (var l in lines) output.WriteLine(l);
        Assert.Equal(
            ["/etc/app/config.txt 1000:1000 600", "/srv/data 1000:100 755", "/srv/data/a.txt 1000:100 700", "/srv/data/sub/b.txt 1000:100 644", "cfg=port=5432"],
            lines);
    }

    [Fact]
    public async Task Without_a_main_process_files_are_in_place_when_create_returns_and_Fs_copies_with_an_owner()
    {
        VmEnvironment.RequireVm();
        var host = Path.Combine(_dir, "script.sh");
        await File.WriteAllTextAsync(host, "#!/bin/sh\necho hi\n", Ct);
        File.SetUnixFileMode(host, (UnixFileMode)0x1ed); // 0755
        await using var sb = await Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("copyin2")).Image(BuiltinImages.Busybox).Ephemeral().CopyIn(host, "/usr/local/bin/hi", uid: 1000, gid: 1000),
            VmEnvironment.Options(output), Ct);
        Assert.Equal("/usr/local/bin/hi 1000:1000 755\n", (await sb.ShellAsync("stat -c '%n %u:%g %a' /usr/local/bin/hi", Ct)).Stdout);
        Assert.Equal("hi\n", (await sb.ExecAsync("/usr/local/bin/hi", cancellationToken: Ct)).Stdout);

        await sb.Fs.CopyInAsync(host, "/home/user/run.sh", mode: 0x1c0 /* 0700 */, uid: 1000, gid: 1000, cancellationToken: Ct);
        Assert.Equal("1000:1000 700\n", (await sb.ShellAsync("stat -c '%u:%g %a' /home/user/run.sh", Ct)).Stdout);
        await sb.Fs.ChownAsync("/home/user/run.sh", 0, 0, Ct);
        Assert.Equal("0:0\n", (await sb.ShellAsync("stat -c '%u:%g' /home/user/run.sh", Ct)).Stdout);
    }

    [Fact]
    public async Task Bad_copy_ins_are_refused_naming_the_path_and_the_rule()
    {
        Assert.Equal("copy-in: guest path 'etc/x' must be absolute",
            Assert.Throws<InvalidConfigException>(() => new SandboxBuilder("x").Image(BuiltinImages.Busybox).CopyIn(new byte[1], "etc/x").Build()).Message);
        Assert.Equal("copy-in: mode 10000 for '/x' is not a permission mode (at most 07777)",
            Assert.Throws<InvalidConfigException>(() => new SandboxBuilder("x").Image(BuiltinImages.Busybox).CopyIn(new byte[1], "/x", mode: 0x1000).Build()).Message);
        var missing = Path.Combine(_dir, "nope");
        var e = await Assert.ThrowsAsync<InvalidConfigException>(() => Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("copyin3")).Image(BuiltinImages.Busybox).Ephemeral().CopyIn(missing, "/x"), VmEnvironment.Options(output), Ct));
        Assert.Equal($"copy-in: host path '{missing}' for '/x' does not exist", e.Message);
    }
}
