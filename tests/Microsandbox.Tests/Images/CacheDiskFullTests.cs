using System.Diagnostics;
using Microsandbox.Images;

namespace Microsandbox.Tests.Images;

/// <summary>
/// The image cache on a disk that fills up mid-pull (a 1 MiB tmpfs under a 3 MiB layer): a clear error naming the
/// cause, no image recorded as cached, and once there is room the same cache completes the pull and verifies.
/// </summary>
public sealed class CacheDiskFullTests : IDisposable
{
    private readonly string _mount = Directory.CreateTempSubdirectory("msb-full-").FullName;
    private bool _mounted;

    public void Dispose()
    {
        if (_mounted) Run("umount", _mount);
        Directory.Delete(_mount, recursive: true);
    }

    [Fact]
    public async Task A_full_cache_disk_fails_the_pull_clearly_and_the_cache_recovers_once_there_is_room()
    {
        if (Environment.UserName != "root" || !File.Exists("/bin/mount")) Assert.Skip("needs root to mount a small tmpfs as the cache disk");
        // Root in a container without CAP_SYS_ADMIN cannot mount: that host cannot run this test, which says so.
        if (Run("mount", "-t", "tmpfs", "-o", "size=1m", "msbfull", _mount) != 0) Assert.Skip("mounting a tmpfs is not permitted here (no CAP_SYS_ADMIN)");
        _mounted = true;
        var ct = TestContext.Current.CancellationToken;

        await using var registry = await LocalRegistry.StartAsync();
        var noise = new byte[3 * 1024 * 1024];
        Random.Shared.NextBytes(noise); // incompressible: the layer blob stays about 3 MiB
        var image = TestImage.Create([TestImage.BusyboxLayer(), [TestImage.FileEntry("noise.bin", noise)]]);
        var reference = await registry.PushAsync("full:1", image);

        var error = await Assert.ThrowsAsync<ImagePullException>(() => new ImagePuller(new ImageCache(_mount)).PullAsync(reference, cancellationToken: ct));
        Assert.Contains("No space left on device", error.Message, StringComparison.Ordinal);
        Assert.Contains(_mount, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(new ImageCache(_mount).ListImages(), i => i.ManifestDigest == image.ManifestDigest);

        Assert.Equal(0, Run("mount", "-o", "remount,size=64m", _mount));
        var pulled = await new ImagePuller(new ImageCache(_mount)).PullAsync(reference, cancellationToken: ct);
        var cache = new ImageCache(_mount);
        Assert.True(cache.IsComplete(pulled.Image));
        foreach (var layer in image.Layers)
            Assert.Equal(Digest.Of(layer), Digest.Of(await File.ReadAllBytesAsync(cache.BlobPath(Digest.Of(layer)), ct)));
    }

    private static int Run(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true })!;
        process.WaitForExit();
        return process.ExitCode;
    }
}
