using System.Diagnostics;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.DockerApi;

/// <summary>
/// What a server must survive: clients that hang up mid-exec or mid-follow (the server goes on serving), and its own
/// death by SIGKILL (`microsandbox docker-api` as a real process: its VMs end within 5 s, through the sandboxes' own
/// watchdog, with nobody left to clean up).
/// </summary>
[Collection(DockerApiCollection.Name)]
public sealed class DockerApiResilienceTests(DockerApiFixture fixture, ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Clients_hanging_up_mid_exec_and_mid_follow_do_not_wedge_the_server()
    {
        var server = fixture.Server;
        using var docker = Client(server.DockerHost);
        await docker.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = fixture.RedisImage }, new AuthConfig(), new Progress<JSONMessage>(), Ct);
        var created = await docker.Containers.CreateContainerAsync(new CreateContainerParameters { Image = fixture.RedisImage }, Ct);
        try
        {
            await docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), Ct);

            // An exec that would run a minute, its client gone after a moment.
            var exec = await docker.Exec.CreateContainerExecAsync(created.ID, new ContainerExecCreateParameters { Cmd = ["sleep", "60"], AttachStdout = true, AttachStderr = true }, Ct);
            using (var hangUp = CancellationTokenSource.CreateLinkedTokenSource(Ct))
            {
                var stream = await docker.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), Ct);
                hangUp.CancelAfter(TimeSpan.FromMilliseconds(500));
                await Assert.ThrowsAnyAsync<Exception>(() => stream.ReadOutputToEndAsync(hangUp.Token));
                stream.Dispose();
            }

            // A log follow, its client gone after a moment.
            using (var hangUp = CancellationTokenSource.CreateLinkedTokenSource(Ct))
            {
                using var logs = await docker.Containers.GetContainerLogsAsync(created.ID, new ContainerLogsParameters { Follow = true, ShowStdout = true, ShowStderr = true }, hangUp.Token);
                hangUp.CancelAfter(TimeSpan.FromMilliseconds(500));
                await Assert.ThrowsAnyAsync<Exception>(() => logs.ReadOutputToEndAsync(hangUp.Token));
            }

            // The server still answers, and the container still runs commands, at once.
            var clock = Stopwatch.StartNew();
            await docker.System.PingAsync(Ct);
            var again = await docker.Exec.CreateContainerExecAsync(created.ID, new ContainerExecCreateParameters { Cmd = ["echo", "still here"], AttachStdout = true }, Ct);
            using (var stream = await docker.Exec.StartContainerExecAsync(again.ID, new ContainerExecStartParameters(), Ct))
                Assert.Equal("still here\n", (await stream.ReadOutputToEndAsync(Ct)).stdout);
            output.WriteLine($"served again in {clock.ElapsedMilliseconds} ms");
            // The abandoned exec ended with its client instead of running on.
            var abandoned = await docker.Exec.InspectContainerExecAsync(exec.ID, Ct);
            Assert.False(abandoned.Running);
        }
        finally
        {
            await docker.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true }, Ct);
        }
    }

    [Fact]
    public async Task A_server_killed_with_SIGKILL_leaves_no_VM_behind_within_5_seconds()
    {
        var image = fixture.RedisImage;
        var dir = Directory.CreateTempSubdirectory("msb-kill-").FullName;
        var socket = Path.Combine(dir, "docker.sock");
        var psi = new ProcessStartInfo(Runtime.SandboxProcessLocator.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Microsandbox.Cli.dll"), "docker-api", "--socket", socket }) psi.ArgumentList.Add(a);
        psi.Environment["MSB_HOME"] = VmEnvironment.Home;
        using var process = Process.Start(psi)!;
        try
        {
            Assert.Equal("DOCKER_HOST=unix://" + socket, await process.StandardOutput.ReadLineAsync(Ct));
            using var docker = Client("unix://" + socket);
            await docker.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = image }, new AuthConfig(), new Progress<JSONMessage>(), Ct);
            var created = await docker.Containers.CreateContainerAsync(new CreateContainerParameters { Image = image }, Ct);
            await docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), Ct);
            var name = (await docker.Containers.InspectContainerAsync(created.ID, Ct)).Name.TrimStart('/');
            Assert.NotEmpty(LifecycleTests.QemuProcessesFor(name));

            process.Kill();
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(5) && LifecycleTests.QemuProcessesFor(name).Count > 0) await Task.Delay(100, Ct);
            output.WriteLine($"VM gone {clock.ElapsedMilliseconds} ms after the server's SIGKILL");
            Assert.Empty(LifecycleTests.QemuProcessesFor(name));
        }
        finally
        {
            if (!process.HasExited) process.Kill();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static DockerClient Client(string host) =>
        new DockerClientBuilder().WithEndpoint(new Uri(host)).WithApiVersion(new System.Version(1, 44)).Build();
}
