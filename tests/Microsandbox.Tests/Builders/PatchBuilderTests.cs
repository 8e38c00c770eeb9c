using Microsandbox.Spec;

namespace Microsandbox.Tests.Builders;

public class PatchBuilderTests
{
    [Fact]
    public void Every_patch_kind_is_recorded_in_order()
    {
        var patches = new PatchBuilder()
            .Text("/etc/app.conf", "x=1", mode: 0b110_100_100, replace: true)
            .File("/bin/tool", new byte[] { 1, 2, 3 }, mode: 0b111_101_101)
            .CopyFile("./cert.pem", "/etc/ssl/cert.pem")
            .CopyDir("./site", "/srv/site", replace: true)
            .Symlink("/usr/bin/python3", "/usr/bin/python")
            .Mkdir("/var/cache/app", mode: 0b111_101_101)
            .Remove("/etc/motd")
            .Append("/etc/hosts", "10.0.0.1 db\n")
            .Build();

        Assert.Collection(patches,
            p => Assert.Equal(new Patch.Text { Path = "/etc/app.conf", Content = "x=1", Mode = 420, Replace = true }, p),
            p =>
            {
                var file = Assert.IsType<Patch.File>(p);
                Assert.Equal("/bin/tool", file.Path);
                Assert.Equal(new byte[] { 1, 2, 3 }, file.Content.ToArray());
                Assert.Equal(493u, file.Mode);
                Assert.False(file.Replace);
            },
            p => Assert.Equal(new Patch.CopyFile { Src = "./cert.pem", Dst = "/etc/ssl/cert.pem", Mode = null, Replace = false }, p),
            p => Assert.Equal(new Patch.CopyDir { Src = "./site", Dst = "/srv/site", Replace = true }, p),
            p => Assert.Equal(new Patch.Symlink { Target = "/usr/bin/python3", Link = "/usr/bin/python", Replace = false }, p),
            p => Assert.Equal(new Patch.Mkdir { Path = "/var/cache/app", Mode = 493 }, p),
            p => Assert.Equal(new Patch.Remove { Path = "/etc/motd" }, p),
            p => Assert.Equal(new Patch.Append { Path = "/etc/hosts", Content = "10.0.0.1 db\n" }, p));
    }

    [Fact]
    public void File_content_is_copied_so_later_writes_do_not_leak_in()
    {
        var bytes = new byte[] { 7 };
        var patches = new PatchBuilder().File("/f", bytes).Build();
        bytes[0] = 9;
        Assert.Equal(7, Assert.IsType<Patch.File>(patches[0]).Content.Span[0]);
    }

    [Fact]
    public void Builders_are_immutable()
    {
        var shared = new PatchBuilder().Mkdir("/a");
        var more = shared.Mkdir("/b");
        Assert.Single(shared.Build());
        Assert.Equal(2, more.Build().Count);
    }
}
