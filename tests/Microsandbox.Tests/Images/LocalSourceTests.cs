using Microsandbox.Images;
using Microsandbox.Spec;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.Images;

/// <summary>Images from an OCI layout directory, an OCI archive and a docker save archive, with no registry.</summary>
public sealed class LocalSourceTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("msb-local-").FullName;
    private string Home => Path.Combine(_dir, "home");
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ImagePuller Puller() => new(new ImageCache(Home));

    [Fact]
    public async Task An_oci_layout_directory_loads_and_its_reference_then_resolves_offline()
    {
        var image = TestImage.MultiLayer();
        var layout = Path.Combine(_dir, "layout");
        image.WriteLayout(layout, "127.0.0.1:1/from-layout:3");

        var loaded = await Puller().PullAsync(layout, cancellationToken: Ct);
        Assert.Equal(image.ManifestDigest, loaded.Image.ManifestDigest);
        Assert.Equal(["/bin/sh", "-c", "cat /data/link; ls /data/opaque"], loaded.Config.Cmd);

        // Nothing listens on port 1: only the cache can answer.
        var offline = await Puller().PullAsync("127.0.0.1:1/from-layout:3", new PullOptions { Policy = PullPolicy.Never }, Ct);
        Assert.True(offline.FromCache);
        Assert.Equal(image.ManifestDigest, offline.Image.ManifestDigest);
    }

    [Fact]
    public async Task An_oci_archive_gives_the_same_image_as_its_layout()
    {
        var image = TestImage.Create([TestImage.BusyboxLayer()], cmd: ["/bin/echo", "archived"]);
        var layout = Path.Combine(_dir, "layout");
        image.WriteLayout(layout);
        var archive = Path.Combine(_dir, "image.tar.gz");
        TestImage.TarDirectory(layout, archive, gzip: true);

        var loaded = await Puller().PullAsync(archive, cancellationToken: Ct);
        Assert.Equal(image.ManifestDigest, loaded.Image.ManifestDigest);
        Assert.True(new ImageCache(Home).IsComplete(loaded.Image));
    }

    [Fact]
    public async Task A_docker_save_archive_loads_with_its_repo_tag()
    {
        var image = TestImage.MultiLayer();
        var archive = Path.Combine(_dir, "saved.tar");
        image.WriteDockerSave(archive, "127.0.0.1:1/saved/app:2");

        var loaded = await Puller().PullAsync(archive, cancellationToken: Ct);
        Assert.Equal(3, loaded.Image.Layers.Count);
        Assert.All(loaded.Image.Layers, l => Assert.Equal(OciMediaTypes.Layer, l.MediaType));
        Assert.Equal(Digest.Of(image.Config), loaded.Image.ConfigDigest);
        var byTag = await Puller().PullAsync("127.0.0.1:1/saved/app:2", new PullOptions { Policy = PullPolicy.Never }, Ct);
        Assert.Equal(loaded.Image.ManifestDigest, byTag.Image.ManifestDigest);
    }

    [Fact]
    public async Task A_layout_blob_that_does_not_match_its_digest_is_rejected()
    {
        var image = TestImage.Create([TestImage.BusyboxLayer()]);
        var layout = Path.Combine(_dir, "layout");
        image.WriteLayout(layout);
        var layer = Path.Combine(layout, "blobs", "sha256", Digest.Hex(Digest.Of(image.Layers[0])));
        var bytes = await File.ReadAllBytesAsync(layer, Ct);
        bytes[100] ^= 0x55;
        await File.WriteAllBytesAsync(layer, bytes, Ct);

        var e = await Assert.ThrowsAsync<ImagePullException>(() => Puller().PullAsync(layout, cancellationToken: Ct));
        Assert.Contains("digest mismatch", e.Message, StringComparison.Ordinal);
        Assert.False(new ImageCache(Home).HasBlob(Digest.Of(image.Layers[0])));
    }

    [Fact]
    public void Archive_paths_resolve_to_oci_sources_and_other_paths_stay_local()
    {
        Assert.Equal("./img.tar", ImageSource.FromText("./img.tar").ToRootfsSource().OciReference);
        Assert.Equal("/abs/img.tar.gz", ImageSource.FromText("/abs/img.tar.gz").ToRootfsSource().OciReference);
        Assert.Equal("./rel.tgz", ImageSource.FromPath("rel.tgz").ToRootfsSource().OciReference);
        Assert.IsType<RootfsSource.Bind>(ImageSource.FromText("/some/dir").ToRootfsSource());
        Assert.IsType<RootfsSource.DiskImage>(ImageSource.FromText("/disk.raw").ToRootfsSource());
    }

    [Fact]
    public async Task A_docker_save_archive_boots_by_path_and_runs_its_default_cmd()
    {
        VmEnvironment.RequireVm();
        var image = TestImage.Create([TestImage.BusyboxLayer(), [TestImage.FileEntry("etc/motd", "from a docker save archive\n")]],
            cmd: ["/bin/cat", "/etc/motd"]);
        var archive = Path.Combine(_dir, "boot.tar");
        image.WriteDockerSave(archive, "127.0.0.1:1/boot:1");

        await using var sb = await Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("oci-tar")).Image(archive).Ephemeral(),
            VmEnvironment.Options(output), Ct);
        var cmd = sb.Spec.Runtime.Cmd!;
        Assert.Equal("from a docker save archive\n", (await sb.ExecAsync(cmd[0], cmd.Skip(1), Ct)).Stdout);
    }
}
