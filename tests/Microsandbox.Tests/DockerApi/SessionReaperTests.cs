using System.Diagnostics;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Microsandbox.Tests.DockerApi;

/// <summary>
/// Ryuk's job without Ryuk: a client process that names its Testcontainers session (<c>x-tc-sid</c>) and labels its
/// container with it, then exits without removing it. While the process lives its container runs; once it is gone
/// the server removes the container. The client is Python's standard library speaking HTTP/1.0 on the unix socket, so
/// the process that dies is a real, separate one.
/// </summary>
[Collection(DockerApiCollection.Name)]
public sealed class SessionReaperTests(DockerApiFixture fixture, ITestOutputHelper output)
{
    private const string Client = """
        import json, socket, sys
        path, image, session = sys.argv[1:4]
        def request(method, target, body=None):
            data = b"" if body is None else json.dumps(body).encode()
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.sendall((f"{method} {target} HTTP/1.0\r\nHost: docker\r\nx-tc-sid: {session}\r\n"
                       f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data)
            response = b""
            while chunk := s.recv(65536):
                response += chunk
            head, _, payload = response.partition(b"\r\n\r\n")
            if not head.split()[1].startswith(b"2"):
                sys.exit(f"{method} {target}: {response!r}")
            return payload
        created = json.loads(request("POST", "/v1.44/containers/create", {"Image": image, "Labels": {"org.testcontainers.session-id": session}}))
        request("POST", f"/v1.44/containers/{created['Id']}/start")
        print(created["Id"], flush=True)
        sys.stdin.readline()
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_sessions_containers_are_removed_once_its_client_process_has_exited()
    {
        var server = fixture.Server;
        if (Engines.Qemu.QemuAssets.FindOnPath("python3") is null) Assert.Skip("python3 is not installed (Debian package python3-minimal; ./build.sh Install)");
        using var docker = new DockerClientBuilder().WithEndpoint(new Uri(server.DockerHost)).Build();
        await docker.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = fixture.RedisImage }, new AuthConfig(), new Progress<JSONMessage>(), Ct);

        var psi = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", Client, server.SocketPath, fixture.RedisImage, Guid.NewGuid().ToString() }) psi.ArgumentList.Add(a);
        using var client = Process.Start(psi)!;
        var id = await client.StandardOutput.ReadLineAsync(Ct);
        if (id is not { Length: 64 })
        {
            client.StandardInput.Close();
            Assert.Fail($"the client failed: {id} {await client.StandardError.ReadToEndAsync(Ct)}");
        }

        // Alive client: its container stays, past a few reaper rounds.
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        Assert.Equal("running", (await docker.Containers.InspectContainerAsync(id, Ct)).State!.Status);

        // The client exits without cleaning up: the server does it.
        client.StandardInput.Close();
        await client.WaitForExitAsync(Ct);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                await docker.Containers.InspectContainerAsync(id, Ct);
                await Task.Delay(250, Ct);
            }
            catch (DockerContainerNotFoundException)
            {
                output.WriteLine($"removed {clock.ElapsedMilliseconds} ms after its client exited");
                return;
            }
        }
        Assert.Fail("the container of an ended session was not removed within 30 s");
    }
}
