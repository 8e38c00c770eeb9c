using System.Collections.Concurrent;
using Microsandbox.Images;
using Microsandbox.Orchestration;
using Microsandbox.Tests.Images;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.Orchestration;

/// <summary>Preparing an OCI image from a real local registry, then running a build step on it without another download.</summary>
public sealed class OrchestratorOciTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Prepare_pulls_an_oci_image_once_and_run_boots_it_from_the_cache()
    {
        VmEnvironment.RequireVm();
        await using var registry = await LocalRegistry.StartAsync();
        var image = TestImage.Create([TestImage.BusyboxLayer(), [TestImage.Dir("work")]],
            env: ["PATH=/bin", "STEP=from-the-image"], workdir: "/work");
        var reference = await registry.PushAsync($"orch-{Guid.NewGuid():N}"[..16] + ":1", image);
        var orchestrator = new SandboxOrchestrator(VmEnvironment.Options(output));

        var prepared = Assert.Single(await orchestrator.PrepareImagesAsync([reference], Ct));
        Assert.Equal(reference, prepared.Image);
        Assert.Equal(image.ManifestDigest, prepared.ManifestDigest);
        Assert.True(File.Exists(prepared.Location), $"no root disk at {prepared.Location}");
        Assert.Equal(1, await registry.BlobGetsAsync(Digest.Of(image.Layers[0])));

        var lines = new ConcurrentQueue<OutputLine>();
        var result = await orchestrator.RunAsync(new SandboxRequest { Image = reference },
            CommandRequest.Shell("echo $STEP; pwd"), OutputSink.FromCallback(lines.Enqueue), Ct);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["from-the-image", "/work"], lines.Select(l => l.Text));
        // The create found the layers in the cache that PrepareImagesAsync filled.
        Assert.Equal(1, await registry.BlobGetsAsync(Digest.Of(image.Layers[0])));
        Assert.Empty(LifecycleTests.QemuProcessesFor(result.SandboxName));
    }
}
