using Microsandbox.Engines.Qemu;
using Microsandbox.Images;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.Images;

/// <summary>
/// A real distribution image: Debian bookworm (debootstrap minbase from Debian's own packages), pushed to a local
/// registry, booted, and used. Slow (minutes on first run), so opt-in: <c>MSB_TEST_DEBIAN=1</c>. The debootstrap
/// tarball is kept in <c>/var/tmp/msb-test-cache/</c> and reused by later runs.
/// </summary>
public sealed class DebianImageTests(ITestOutputHelper output)
{
    private const string OptIn = "MSB_TEST_DEBIAN";
    private static readonly string CacheDir = Path.Combine("/var/tmp", "msb-test-cache");
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_debootstrapped_bookworm_image_boots_and_runs_apt()
    {
        if (Environment.GetEnvironmentVariable(OptIn) != "1") Assert.Skip($"slow (debootstrap, ~150 MB image): run with {OptIn}=1");
        if (QemuAssets.FindOnPath("debootstrap") is null) Assert.Skip("debootstrap is not installed (apt-get install debootstrap)");
        VmEnvironment.RequireVm();
        await using var registry = await LocalRegistry.StartAsync();

        var layer = await BookwormLayerAsync();
        var image = TestImage.FromLayerBlobs([layer], cmd: ["/bin/bash"], env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
        var reference = await registry.PushAsync("debian:bookworm", image);

        await using var sb = await Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("bookworm")).Image(reference).Memory(1024).Ephemeral(),
            VmEnvironment.Options(output, TimeSpan.FromSeconds(180)), Ct);
        var osRelease = await sb.ExecAsync("cat", ["/etc/os-release"], Ct);
        output.WriteLine(osRelease.Stdout);
        Assert.Contains("VERSION_CODENAME=bookworm", osRelease.Stdout, StringComparison.Ordinal);
        Assert.Contains("ID=debian", osRelease.Stdout, StringComparison.Ordinal);
        var apt = await sb.ExecAsync("apt", ["--version"], Ct);
        output.WriteLine(apt.Stdout + apt.Stderr);
        Assert.Equal(0, apt.ExitCode);
        Assert.StartsWith("apt 2.6", apt.Stdout, StringComparison.Ordinal);
        var dpkg = await sb.ShellAsync("dpkg-query -W -f='${Package}\\n' | wc -l; stat -c '%U %a' /usr/bin/passwd", Ct);
        output.WriteLine(dpkg.Stdout);
        Assert.Equal(0, dpkg.ExitCode);
        Assert.EndsWith("root 4755\n", dpkg.Stdout, StringComparison.Ordinal);
    }

    /// <summary>A gzip'd tar of a bookworm minbase tree (ownership, modes and device nodes kept), cached between runs.</summary>
    private async Task<byte[]> BookwormLayerAsync()
    {
        Directory.CreateDirectory(CacheDir);
        var tarball = Path.Combine(CacheDir, "bookworm-minbase.tar.gz");
        if (!File.Exists(tarball))
        {
            var root = Path.Combine(CacheDir, "bookworm-" + Guid.NewGuid().ToString("N"));
            try
            {
                output.WriteLine($"debootstrap bookworm into {root} from {Mirror()}");
                await LocalRegistry.RunAsync("debootstrap", ["--variant=minbase", "bookworm", root, Mirror()]);
                // apt's caches are not part of an image.
                foreach (var dir in new[] { "var/cache/apt/archives", "var/lib/apt/lists" })
                {
                    foreach (var f in Directory.EnumerateFiles(Path.Combine(root, dir))) File.Delete(f);
                }
                await LocalRegistry.RunAsync("tar", ["-C", root, "--numeric-owner", "--xattrs", "-czf", tarball + ".tmp", "."]);
                File.Move(tarball + ".tmp", tarball, overwrite: true);
            }
            finally
            {
                if (Directory.Exists(root)) await LocalRegistry.RunAsync("rm", ["-rf", "--one-file-system", root]);
            }
        }
        return await File.ReadAllBytesAsync(tarball, Ct);
    }

    /// <summary>The Debian mirror apt on this machine uses (so the test names no host of its own).</summary>
    private static string Mirror()
    {
        foreach (var file in new[] { "/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list" })
        {
            if (!File.Exists(file)) continue;
            foreach (var line in File.ReadLines(file))
            {
                var t = line.Trim();
                if (t.StartsWith("URIs:", StringComparison.Ordinal) && !t.Contains("security", StringComparison.Ordinal)) return t["URIs:".Length..].Trim().Split(' ')[0];
                if (t.StartsWith("deb ", StringComparison.Ordinal) && !t.Contains("security", StringComparison.Ordinal)) return t.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            }
        }
        Assert.Skip("no Debian mirror is configured for apt on this machine");
        return "";
    }
}
