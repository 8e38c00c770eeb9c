using System.Formats.Tar;
using Microsandbox.Images;

namespace Microsandbox.Tests.Images;

public sealed class LayerApplierTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("msb-layers-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task ApplyAsync(params IEnumerable<TarEntry>[] layers)
    {
        var applier = new LayerApplier(_root);
        foreach (var layer in layers)
        {
            using var stream = new MemoryStream(TestImage.Layer(layer));
            await applier.ApplyAsync(stream, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Layers_apply_in_order_with_whiteouts_opaque_dirs_and_links()
    {
        var image = TestImage.MultiLayer();
        var applier = new LayerApplier(_root);
        foreach (var layer in image.Layers)
        {
            using var stream = new MemoryStream(layer);
            await applier.ApplyAsync(stream, TestContext.Current.CancellationToken);
        }

        Assert.False(File.Exists(Path.Combine(_root, "data/removed.txt")), "whiteout removes the lower file");
        Assert.False(File.Exists(Path.Combine(_root, "data/.wh.removed.txt")), "whiteout markers are not materialised");
        Assert.Equal(["new.txt"], Directory.GetFiles(Path.Combine(_root, "data/opaque")).Select(Path.GetFileName));
        Assert.Equal("/data/kept.txt", new FileInfo(Path.Combine(_root, "data/link")).LinkTarget);
        Assert.Equal("kept\n", await File.ReadAllTextAsync(Path.Combine(_root, "data/hard.txt"), TestContext.Current.CancellationToken));
        Assert.Equal("busybox", new FileInfo(Path.Combine(_root, "bin/sh")).LinkTarget);
        var owned = Path.Combine(_root, "data/owned.txt");
        Assert.Equal((UnixFileMode)0x9ED, File.GetUnixFileMode(owned));
        if (FileSystemCalls.IsRoot)
        {
            var stat = await LocalRegistry.RunAsync("stat", ["-c", "%u:%g", owned]);
            Assert.Equal("1234:4321", stat.Trim());
        }
    }

    [Fact]
    public async Task A_whiteout_does_not_remove_what_its_own_layer_adds()
    {
        await ApplyAsync(
            [TestImage.Dir("d"), TestImage.FileEntry("d/lower.txt", "l")],
            [TestImage.FileEntry("d/upper.txt", "u"), TestImage.Opaque("d"), TestImage.FileEntry("d/after.txt", "a")]);
        Assert.Equal(["after.txt", "upper.txt"], Directory.GetFiles(Path.Combine(_root, "d")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task A_file_replaces_a_directory_and_a_directory_replaces_a_file()
    {
        await ApplyAsync(
            [TestImage.Dir("x"), TestImage.FileEntry("x/inner", "i"), TestImage.FileEntry("y", "file")],
            [TestImage.FileEntry("x", "now a file"), TestImage.Dir("y"), TestImage.FileEntry("y/inner", "now a dir")]);
        Assert.Equal("now a file", await File.ReadAllTextAsync(Path.Combine(_root, "x"), TestContext.Current.CancellationToken));
        Assert.Equal("now a dir", await File.ReadAllTextAsync(Path.Combine(_root, "y/inner"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Symlinks_cannot_lead_writes_out_of_the_root()
    {
        var outside = Directory.CreateTempSubdirectory("msb-outside-").FullName;
        try
        {
            await ApplyAsync(
                [TestImage.Link("escape", outside), TestImage.Link("up", "../../../../../../../../" + outside.TrimStart('/'))],
                [TestImage.FileEntry("escape/pwned", "x"), TestImage.FileEntry("up/pwned2", "x")]);
            Assert.Empty(Directory.GetFiles(outside));
            Assert.True(File.Exists(Path.Combine(_root, outside.TrimStart('/'), "pwned")), "an absolute symlink resolves inside the root");
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public async Task Dot_dot_entries_are_rejected()
    {
        await Assert.ThrowsAsync<InvalidDataException>(() => ApplyAsync([TestImage.FileEntry("../evil", "x")]));
    }
}
