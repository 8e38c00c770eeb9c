using System.Formats.Tar;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Microsandbox.Tests.DockerApi;

/// <summary>
/// Docker.DotNet (Enhanced 4.4.1) for the endpoints Testcontainers' flows do not reach: images list, remove and pull,
/// volumes, containers list with filters, attach, archive stat and download, kill and wait — against one container
/// in a microVM, with a named volume mounted.
/// </summary>
[Collection(DockerApiCollection.Name)]
public sealed class DockerDotNetTests(DockerApiFixture fixture, ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Images_volumes_filters_attach_archive_kill_and_wait()
    {
        var server = fixture.Server;
        using var docker = new DockerClientBuilder().WithEndpoint(new Uri(server.DockerHost)).WithApiVersion(new System.Version(1, 44)).Build();

        // Pull through the server (progress as JSON messages), then list.
        var progress = new List<string>();
        await docker.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = fixture.RedisImage[..fixture.RedisImage.LastIndexOf(':')], Tag = "7" },
            new AuthConfig(), new Progress<JSONMessage>(m => { lock (progress) progress.Add(m.Status ?? ""); }), Ct);
        var images = await docker.Images.ListImagesAsync(new ImagesListParameters(), Ct);
        Assert.Contains(images, i => i.RepoTags?.Contains(fixture.RedisImage) == true);

        // A named volume, created and then mounted.
        var volumeName = "dd-" + Guid.NewGuid().ToString("N")[..10];
        var volume = await docker.Volumes.CreateAsync(new VolumesCreateParameters { Name = volumeName, Labels = new Dictionary<string, string> { ["suite"] = "docker-dotnet" } }, Ct);
        Assert.Equal("local", volume.Driver);
        Assert.Contains((await docker.Volumes.ListAsync(Ct)).Volumes ?? [], v => v.Name == volumeName && v.Labels!["suite"] == "docker-dotnet");

        var name = "dd-" + Guid.NewGuid().ToString("N")[..10];
        var created = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Name = name,
            Image = fixture.RedisImage,
            Labels = new Dictionary<string, string> { ["suite"] = "docker-dotnet" },
            HostConfig = new HostConfig
            {
                Mounts = [new Mount { Type = "volume", Source = volumeName, Target = "/data" }],
                ExtraHosts = ["db.internal:10.1.2.3", "host.docker.internal:host-gateway"],
            },
        }, Ct);
        try
        {
            // Filters: label and name match the created container; status=running does not (yet).
            Assert.Contains(await List("label", "suite=docker-dotnet"), c => c.ID == created.ID);
            Assert.Contains(await List("name", name), c => c.ID == created.ID);
            Assert.DoesNotContain(await List("status", "running"), c => c.ID == created.ID);
            Assert.Empty(await List("label", "suite=other"));

            await docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), Ct);
            Assert.Contains(await List("status", "running"), c => c.ID == created.ID);

            // Attach: the main process's output as it runs (logs from the start, then the live stream).
            using (var attached = await docker.Containers.AttachContainerAsync(created.ID, new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true, Logs = true }, Ct))
            {
                var seen = new StringBuilder();
                var buffer = new byte[4096];
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
                cts.CancelAfter(TimeSpan.FromSeconds(60));
                while (!seen.ToString().Contains("Ready to accept connections", StringComparison.Ordinal))
                {
                    var read = await attached.ReadOutputAsync(buffer, 0, buffer.Length, cts.Token);
                    Assert.False(read.EOF, "attach ended before Redis was ready: " + seen);
                    seen.Append(Encoding.UTF8.GetString(buffer, 0, read.Count));
                }
            }

            // The volume is the host directory: a file the guest writes there appears on the host.
            var exec = await docker.Exec.CreateContainerExecAsync(created.ID, new ContainerExecCreateParameters { Cmd = ["sh", "-c", "echo kept > /data/kept.txt && getent hosts db.internal host.docker.internal | tr -s ' ' > /data/hosts.txt"], AttachStdout = true, AttachStderr = true }, Ct);
            using (var stream = await docker.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), Ct))
                await stream.ReadOutputToEndAsync(Ct);
            Assert.Equal(0, (await docker.Exec.InspectContainerExecAsync(exec.ID, Ct)).ExitCode);
            var volumePath = (await docker.Volumes.InspectAsync(volumeName, Ct)).Mountpoint;
            Assert.Equal("kept\n", await File.ReadAllTextAsync(Path.Combine(volumePath, "kept.txt"), Ct));
            // ExtraHosts reached the guest's /etc/hosts (host-gateway: the address the guest reaches this host at).
            Assert.Equal("10.1.2.3 db.internal\n10.0.2.2 host.docker.internal\n", await File.ReadAllTextAsync(Path.Combine(volumePath, "hosts.txt"), Ct));
            await Assert.ThrowsAsync<DockerApiException>(() => docker.Volumes.RemoveAsync(volumeName, false, Ct)); // in use

            // Archive: stat only (HEAD), then the tar (GET) of the guest's /etc/hostname.
            var stat = await docker.Containers.GetArchiveFromContainerAsync(created.ID, new ContainerPathStatParameters { Path = "/etc/hostname" }, true, Ct);
            Assert.Equal("hostname", stat.Stat.Name);
            var archive = await docker.Containers.GetArchiveFromContainerAsync(created.ID, new ContainerPathStatParameters { Path = "/etc/hostname" }, false, Ct);
            using (var tar = new TarReader(archive.Stream!))
            {
                var entry = tar.GetNextEntry()!;
                Assert.Equal("hostname", entry.Name);
                using var text = new StreamReader(entry.DataStream!);
                Assert.Equal(created.ID[..12], (await text.ReadToEndAsync(Ct)).Trim());
            }

            // Kill, then wait: SIGKILL ends it with 137, as Docker reports a killed container.
            var wait = docker.Containers.WaitContainerAsync(created.ID, Ct);
            await docker.Containers.KillContainerAsync(created.ID, new ContainerKillParameters { Signal = "SIGKILL" }, Ct);
            Assert.Equal(137, (await wait).StatusCode);
            var inspect = await docker.Containers.InspectContainerAsync(created.ID, Ct);
            Assert.Equal("exited", inspect.State!.Status);
            Assert.Equal(137, inspect.State.ExitCode);
            // A signal the sandbox cannot deliver is refused by name, not ignored.
            var hup = await Assert.ThrowsAsync<DockerApiException>(() => docker.Containers.KillContainerAsync(created.ID, new ContainerKillParameters { Signal = "SIGHUP" }, Ct));
            output.WriteLine(hup.ResponseBody ?? "");
        }
        finally
        {
            await docker.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true }, Ct);
        }
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => docker.Containers.InspectContainerAsync(created.ID, Ct));
        await docker.Volumes.RemoveAsync(volumeName, false, Ct);
        Assert.DoesNotContain((await docker.Volumes.ListAsync(Ct)).Volumes ?? [], v => v.Name == volumeName);

        // Image remove, then the image is gone until pulled again (later tests pull it back as Testcontainers does).
        await docker.Images.DeleteImageAsync(fixture.RedisImage, new ImageDeleteParameters(), Ct);
        await Assert.ThrowsAsync<DockerImageNotFoundException>(() => docker.Images.InspectImageAsync(fixture.RedisImage, Ct));
        await docker.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = fixture.RedisImage }, new AuthConfig(), new Progress<JSONMessage>(), Ct);
        Assert.Equal(fixture.RedisImage, (await docker.Images.InspectImageAsync(fixture.RedisImage, Ct)).RepoTags!.Single());

        async Task<IList<ContainerListResponse>> List(string key, string value) =>
            await docker.Containers.ListContainersAsync(new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { [key] = new Dictionary<string, bool> { [value] = true } },
            }, Ct);
    }
}
