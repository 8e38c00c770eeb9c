using Microsandbox.Images;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.Images;

/// <summary>Boots microVMs from OCI references served by a local registry, and runs each image's default command.</summary>
public sealed class OciBootTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_busybox_image_from_the_registry_boots_and_runs_its_default_cmd()
    {
        VmEnvironment.RequireVm();
        await using var registry = await LocalRegistry.StartAsync();
        var image = TestImage.Create([TestImage.BusyboxLayer(), [TestImage.Dir("work")]],
            cmd: ["/bin/sh", "-c", "echo hello from $GREETING"],
            env: ["PATH=/bin", "GREETING=the-image", "OVERRIDDEN=image"],
            workdir: "/work");
        var reference = await registry.PushAsync($"busybox-{Guid.NewGuid():N}"[..20] + ":1", image);

        await using var sb = await Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("oci-bb")).Image(reference).Env("OVERRIDDEN", "user").Ephemeral(),
            VmEnvironment.Options(output), Ct);

        // The image config was merged under the user's settings.
        Assert.Equal(["/bin/sh", "-c", "echo hello from $GREETING"], sb.Spec.Runtime.Cmd);
        Assert.Equal("/work", sb.Spec.Runtime.Workdir);
        Assert.Contains(sb.Spec.Env, e => e.Key == "OVERRIDDEN" && e.Value == "user");
        Assert.DoesNotContain(sb.Spec.Env, e => e.Key == "OVERRIDDEN" && e.Value == "image");

        var cmd = sb.Spec.Runtime.Cmd!;
        var run = await sb.ExecAsync(cmd[0], cmd.Skip(1), Ct);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("hello from the-image\n", run.Stdout);
        Assert.Equal("user\n", (await sb.ShellAsync("echo $OVERRIDDEN", Ct)).Stdout);

        // The root is writable, copy-on-write over the shared cached disk.
        Assert.Equal(0, (await sb.ShellAsync("echo scratch > /root/written && cat /root/written", Ct)).ExitCode);
        // The default OCI upper size (4096 MiB) is free space on the root.
        Assert.InRange(await RootFreeMibAsync(sb), 3900, 4400);
        Assert.Equal(1, await registry.BlobGetsAsync(Digest.Of(image.Layers[0])));
    }

    [Fact]
    public async Task A_multi_layer_image_boots_with_whiteouts_opaque_dirs_links_and_ownership_applied()
    {
        VmEnvironment.RequireVm();
        await using var registry = await LocalRegistry.StartAsync();
        var image = TestImage.MultiLayer();
        var reference = await registry.PushAsync("multi:1", image);

        await using var sb = await Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("oci-ml")).ImageWith(i => i.Oci(reference).UpperSize(256)).Ephemeral(),
            VmEnvironment.Options(output), Ct);

        var cmd = sb.Spec.Runtime.Cmd!;
        var run = await sb.ExecAsync(cmd[0], cmd.Skip(1), Ct);
        Assert.Equal("kept\nnew.txt\n", run.Stdout);
        var checks = await sb.ShellAsync(
            "test -e /data/removed.txt && echo removed-present; test -e /data/opaque/old.txt && echo old-present; " +
            "readlink /data/link; cat /data/hard.txt; stat -c '%u:%g %a' /data/owned.txt; stat -c '%i' /data/kept.txt /data/hard.txt | uniq | wc -l", Ct);
        Assert.Equal("/data/kept.txt\nkept\n1234:4321 4755\n1\n", checks.Stdout);
        Assert.InRange(await RootFreeMibAsync(sb), 200, 400);
    }

    private static async Task<long> RootFreeMibAsync(Sandbox sb)
    {
        var df = await sb.ExecAsync("df", ["-m", "/"], Ct);
        var fields = df.Stdout.Split('\n')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture);
    }
}
