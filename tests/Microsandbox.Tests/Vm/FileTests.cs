using System.Security.Cryptography;

namespace Microsandbox.Tests.Vm;

[Collection(SharedSandboxCollection.Name)]
public sealed class FileTests(SharedSandboxFixture fixture) : IDisposable
{
    private readonly string _host = Directory.CreateTempSubdirectory("msb-files-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_host, recursive: true);

    [Fact]
    public async Task A_bounded_read_refuses_a_file_longer_than_its_bound_and_reads_one_within_it()
    {
        Assert.Equal(0, (await fixture.Sandbox.ShellAsync("head -c 2097152 /dev/zero > /tmp/two-mib.bin", Ct)).ExitCode);
        var e = await Assert.ThrowsAsync<SandboxFsException>(() => fixture.Sandbox.Fs.ReadAsync("/tmp/two-mib.bin", 1024 * 1024, Ct));
        Assert.Equal("read '/tmp/two-mib.bin' in the sandbox failed: longer than the 1048576 bytes this reader takes", e.Message);
        Assert.Equal(2 * 1024 * 1024, (await fixture.Sandbox.Fs.ReadAsync("/tmp/two-mib.bin", 2 * 1024 * 1024, Ct)).Length);
        await fixture.Sandbox.Fs.RemoveAsync("/tmp/two-mib.bin", cancellationToken: Ct);
    }

    [Fact]
    public async Task Ten_mebibytes_written_read_back_byte_exact()
    {
        var data = RandomNumberGenerator.GetBytes(10 * 1024 * 1024);
        await fixture.Sandbox.Fs.WriteAsync("/tmp/ten.bin", data, cancellationToken: Ct);
        var back = await fixture.Sandbox.Fs.ReadAsync("/tmp/ten.bin", Ct);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(back));
        var guestHash = (await fixture.Sandbox.ExecAsync("sha256sum", ["/tmp/ten.bin"], Ct)).Stdout.Split(' ')[0];
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), guestHash);
        await fixture.Sandbox.Fs.RemoveAsync("/tmp/ten.bin", cancellationToken: Ct);
        Assert.False(await fixture.Sandbox.Fs.ExistsAsync("/tmp/ten.bin", Ct));
    }

    [Fact]
    public async Task A_directory_tree_copies_in_and_out()
    {
        var src = Path.Combine(_host, "src");
        Directory.CreateDirectory(Path.Combine(src, "sub", "deeper"));
        await File.WriteAllTextAsync(Path.Combine(src, "a.txt"), "alpha", Ct);
        await File.WriteAllBytesAsync(Path.Combine(src, "sub", "b.bin"), [0, 1, 2, 255], Ct);
        await File.WriteAllTextAsync(Path.Combine(src, "sub", "deeper", "c.txt"), "gamma", Ct);

        await fixture.Sandbox.Fs.CopyInAsync(src, "/tmp/tree", cancellationToken: Ct);
        var listing = await fixture.Sandbox.ExecAsync("find", ["/tmp/tree", "-type", "f"], Ct);
        Assert.Equal(["/tmp/tree/a.txt", "/tmp/tree/sub/b.bin", "/tmp/tree/sub/deeper/c.txt"],
            listing.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));

        await fixture.Sandbox.ExecAsync("sh", ["-c", "echo delta > /tmp/tree/sub/d.txt"], Ct);
        var dst = Path.Combine(_host, "dst");
        await fixture.Sandbox.Fs.CopyOutAsync("/tmp/tree", dst, Ct);
        Assert.Equal("alpha", await File.ReadAllTextAsync(Path.Combine(dst, "a.txt"), Ct));
        Assert.Equal([0, 1, 2, 255], await File.ReadAllBytesAsync(Path.Combine(dst, "sub", "b.bin"), Ct));
        Assert.Equal("gamma", await File.ReadAllTextAsync(Path.Combine(dst, "sub", "deeper", "c.txt"), Ct));
        Assert.Equal("delta\n", await File.ReadAllTextAsync(Path.Combine(dst, "sub", "d.txt"), Ct));
        await fixture.Sandbox.Fs.RemoveAsync("/tmp/tree", recursive: true, Ct);
    }

    [Fact]
    public async Task Listing_shows_names_kinds_and_sizes()
    {
        await fixture.Sandbox.Fs.MkdirAsync("/tmp/listme", cancellationToken: Ct);
        await fixture.Sandbox.Fs.WriteTextAsync("/tmp/listme/file.txt", "12345", cancellationToken: Ct);
        await fixture.Sandbox.Fs.MkdirAsync("/tmp/listme/dir", cancellationToken: Ct);
        var entries = await fixture.Sandbox.Fs.ListAsync("/tmp/listme", Ct);
        var file = Assert.Single(entries, e => e.Path.EndsWith("file.txt", StringComparison.Ordinal));
        Assert.True(file.IsFile);
        Assert.Equal(5UL, file.Size);
        Assert.Contains(entries, e => e.Path.EndsWith("dir", StringComparison.Ordinal) && e.IsDirectory);
        await fixture.Sandbox.Fs.RenameAsync("/tmp/listme/file.txt", "/tmp/listme/renamed.txt", Ct);
        Assert.Equal("12345", await fixture.Sandbox.Fs.ReadTextAsync("/tmp/listme/renamed.txt", Ct));
        await fixture.Sandbox.Fs.RemoveAsync("/tmp/listme", recursive: true, Ct);
    }

    [Fact]
    public async Task Reading_a_missing_file_fails_with_the_path()
    {
        var e = await Assert.ThrowsAsync<SandboxFsException>(() => fixture.Sandbox.Fs.ReadAsync("/tmp/definitely-missing", Ct));
        Assert.Contains("/tmp/definitely-missing", e.Message);
    }
}
