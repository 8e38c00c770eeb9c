using System.Text;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using Microsandbox.Tests.Vm;
using TcWait = DotNet.Testcontainers.Builders.Wait;

namespace Microsandbox.Tests.DockerApi;

/// <summary>
/// Testcontainers 4.17.0, unmodified, against the Docker API server: a generic container from a Debian-built image in
/// a registry on 127.0.0.1, with every wait strategy Testcontainers has, then exec, logs, files, stop and dispose —
/// each one real Docker API traffic into a microVM.
/// </summary>
[Collection(DockerApiCollection.Name)]
public sealed class TestcontainersGenericTests(DockerApiFixture fixture, ITestOutputHelper output)
{
    // A tiny HTTP server in the image's own perl (Debian's perl-base): the container's main process.
    private const string HttpServer = """
        use IO::Socket::INET; $| = 1;
        my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 5, ReuseAddr => 1) or die "listen: $!";
        print "http server listening on 8080\n";
        print STDERR "a line on stderr\n";
        while (my $c = $s->accept) {
            while (my $l = <$c>) { last if $l =~ /^\r?\n$/ }
            my $body = "hello from $ENV{GREETING}\n";
            print $c "HTTP/1.1 200 OK\r\nContent-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
            close $c;
            print "served a request\n";
        }
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public Task Generic_container_passes_every_wait_strategy_then_execs_logs_copies_stops_and_is_disposed() =>
        RunGenericScenarioAsync(fixture.RedisImage, b => b.WithDockerEndpoint(fixture.Server.DockerHost), fixture.Server.DockerHost, null, output);

    /// <summary>
    /// The generic scenario against any endpoint: <paramref name="endpoint"/> points the builder at it, and
    /// <paramref name="dockerHost"/> (with <paramref name="auth"/>) lets Docker.DotNet check the container is gone.
    /// </summary>
    internal static async Task RunGenericScenarioAsync(string image, Func<ContainerBuilder, ContainerBuilder> endpoint, string dockerHost,
        Docker.DotNet.Handler.Abstractions.IAuthProvider? auth, ITestOutputHelper output)
    {
        TestcontainersSettings.ResourceReaperEnabled = false;
        var container = endpoint(new ContainerBuilder(image))
            .WithEntrypoint("perl", "-e", HttpServer)
            .WithEnvironment("GREETING", "testcontainers")
            .WithPortBinding(8080, assignRandomHostPort: true)
            .WithResourceMapping(Encoding.UTF8.GetBytes("mapped before start\n"), FilePath.Of("/etc/msb/mapped.txt"))
            .WithCreateParameterModifier(p => p.Healthcheck = new HealthcheckConfig
            {
                Test = ["CMD-SHELL", "test -s /etc/msb/mapped.txt"],
                Interval = TimeSpan.FromSeconds(1),
                Timeout = TimeSpan.FromSeconds(5),
                Retries = 3,
            })
            .WithWaitStrategy(TcWait.ForUnixContainer()
                .UntilMessageIsLogged("http server listening")
                .UntilInternalTcpPortIsAvailable(8080)
                .UntilHttpRequestIsSucceeded(r => r.ForPort(8080).ForPath("/"))
                .UntilCommandIsCompleted("test", "-s", "/etc/msb/mapped.txt")
                .UntilContainerIsHealthy())
            .Build();
        string id = "", name = "";
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await container.StartAsync(Ct);
            (id, name) = (container.Id, container.Name.TrimStart('/'));
            output.WriteLine($"started and every wait held in {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.Equal(TestcontainersStates.Running, container.State);
            Assert.Equal(TestcontainersHealthStatus.Healthy, container.Health);

            // The published port serves the container's HTTP server, with the environment it was given.
            using (var http = new HttpClient())
            {
                var body = await http.GetStringAsync(new Uri($"http://{container.Hostname}:{container.GetMappedPublicPort(8080)}/"), Ct);
                Assert.Equal("hello from testcontainers\n", body);
            }

            // Exec: stdout, stderr and the exit code come back apart.
            var exec = await container.ExecAsync(["sh", "-c", "echo out; echo err >&2; exit 3"], Ct);
            Assert.Equal(3, exec.ExitCode);
            Assert.Equal("out\n", exec.Stdout);
            Assert.Equal("err\n", exec.Stderr);
            var missing = await container.ExecAsync(["/no/such/program"], Ct);
            Assert.NotEqual(0, missing.ExitCode);

            // Files: mapped before start, copied after start, read back.
            Assert.Equal("mapped before start\n", Encoding.UTF8.GetString(await container.ReadFileAsync("/etc/msb/mapped.txt", Ct)));
            await container.CopyAsync(Encoding.UTF8.GetBytes("copied while running\n"), "/tmp/copied.txt", ct: Ct);
            Assert.Equal("copied while running\n", (await container.ExecAsync(["cat", "/tmp/copied.txt"], Ct)).Stdout);
            Assert.Equal("copied while running\n", Encoding.UTF8.GetString(await container.ReadFileAsync("/tmp/copied.txt", Ct)));

            // Logs: the main process's stdout and stderr, apart.
            var (stdout, stderr) = await container.GetLogsAsync(ct: Ct);
            Assert.Contains("http server listening on 8080", stdout, StringComparison.Ordinal);
            Assert.Contains("served a request", stdout, StringComparison.Ordinal);
            Assert.Contains("a line on stderr", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("a line on stderr", stdout, StringComparison.Ordinal);

            // Stop: the container is Exited, and its VM is gone from the sandbox list.
            await container.StopAsync(Ct);
            Assert.Equal(TestcontainersStates.Exited, container.State);
            var sandboxes = await Sandboxes.ListAsync(VmEnvironment.Options(), Ct);
            Assert.DoesNotContain(sandboxes, s => s.Name == name && s.Status == Microsandbox.State.SandboxStatus.Running);
        }
        finally
        {
            await container.DisposeAsync();
        }
        // Dispose removed it: the server no longer knows the container, nor the state database its sandbox.
        var builder = new Docker.DotNet.DockerClientBuilder().WithEndpoint(new Uri(dockerHost));
        using var docker = (auth is null ? builder : builder.WithAuthProvider(auth)).Build();
        await Assert.ThrowsAsync<Docker.DotNet.DockerContainerNotFoundException>(() => docker.Containers.InspectContainerAsync(id, Ct));
        Assert.Null(await Sandboxes.InspectAsync(name, VmEnvironment.Options(), Ct));
    }
}
