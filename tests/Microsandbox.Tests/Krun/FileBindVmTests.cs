using Microsandbox.Spawn;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.Krun;

/// <summary>
/// Single-file binds end to end: the file is staged (hard link) into its own share, the guest agent binds it at its
/// guest path, and writes go both ways. Runs on whichever engine Auto picks here.
/// </summary>
public sealed class FileBindVmTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _host = Directory.CreateTempSubdirectory("msb-filebind-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_host, recursive: true);

    [Fact]
    public async Task A_single_host_file_is_visible_and_writable_at_its_guest_path()
    {
        VmEnvironment.RequireVm();
        var file = Path.Combine(_host, "app.conf");
        await File.WriteAllTextAsync(Path.Combine(_host, "neighbour.txt"), "must stay hidden", Ct);
        await File.WriteAllTextAsync(file, "setting=1\n", Ct);
        File.SetUnixFileMode(file, (UnixFileMode)0x1b6);

        await using var sb = await Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("filebind")).Image(BuiltinImages.Busybox).Ephemeral()
                .Volume("/etc/app.conf", m => m.Bind(file)),
            VmEnvironment.Options(output), Ct);

        Assert.Equal("setting=1\n", (await sb.ExecAsync("cat", ["/etc/app.conf"], Ct)).Stdout);
        var append = await sb.ShellAsync("echo from-guest >> /etc/app.conf", Ct);
        Assert.Equal(0, append.ExitCode);
        Assert.Equal("setting=1\nfrom-guest\n", await File.ReadAllTextAsync(file, Ct));
        // Only the file is shared, not its directory.
        var listing = await sb.ShellAsync("ls /etc; cat /etc/neighbour.txt", Ct);
        Assert.DoesNotContain("neighbour.txt", listing.Stdout, StringComparison.Ordinal);
        Assert.NotEqual(0, listing.ExitCode);
        Assert.True(Directory.Exists(Path.Combine(new Host.MicrosandboxHome(VmEnvironment.Home).RuntimeDirectory(sb.Name), "file-mounts", FileMountStaging.Tag("/etc/app.conf"))));
    }
}
