using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Docker.DotNet;
using Docker.DotNet.X509;
using DotNet.Testcontainers.Configurations;
using Microsandbox.DockerApi;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.DockerApi;

/// <summary>
/// The server on TCP with mutual TLS in Docker's convention (ca.pem, cert.pem, key.pem), certificates made here:
/// Testcontainers' generic scenario runs through it with a client certificate from the CA, and clients without one,
/// or with one from another CA, are turned away. Plain TCP off loopback is refused at start.
/// </summary>
[Collection(DockerApiCollection.Name)]
public sealed class DockerApiTlsTests(DockerApiFixture fixture, ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Testcontainers_runs_over_mutual_TLS_and_clients_without_a_CA_signed_certificate_are_rejected()
    {
        var image = fixture.RedisImage;
        var dir = Directory.CreateTempSubdirectory("msb-tls-").FullName;
        try
        {
            using var ca = Authority("msb test CA");
            var serverDir = Directory.CreateDirectory(Path.Combine(dir, "server")).FullName;
            var clientDir = Directory.CreateDirectory(Path.Combine(dir, "client")).FullName;
            var rogueDir = Directory.CreateDirectory(Path.Combine(dir, "rogue")).FullName;
            WriteSigned(serverDir, ca, "127.0.0.1", server: true);
            WriteSigned(clientDir, ca, "msb test client", server: false);
            using var otherCa = Authority("some other CA");
            WriteSigned(rogueDir, otherCa, "rogue client", server: false);
            File.Copy(Path.Combine(clientDir, "ca.pem"), Path.Combine(rogueDir, "ca.pem"), overwrite: true);

            await using var server = await DockerApiServer.StartAsync(new DockerApiServerOptions
            {
                SocketPath = Path.Combine(dir, "docker.sock"),
                TcpEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
                TlsDirectory = serverDir,
                Sandbox = VmEnvironment.Options() with { LoggerFactory = fixture.Log },
            }, Ct);
            var tcp = server.TcpUri!;
            output.WriteLine($"serving {tcp}");

            var credentials = DockerTlsCertificates.LoadFromDirectory(clientDir).CreateCredentials();
            await TestcontainersGenericTests.RunGenericScenarioAsync(image,
                b => b.WithDockerEndpoint(new DockerEndpointAuthenticationConfiguration(tcp, credentials)), tcp.ToString(), credentials, output);

            // No client certificate, and one from another CA: the handshake fails, no request is served.
            using var anonymous = new DockerClientBuilder().WithEndpoint(new Uri($"https://127.0.0.1:{tcp.Port}")).Build();
            await Assert.ThrowsAnyAsync<Exception>(() => anonymous.System.PingAsync(Ct));
            using var rogue = new DockerClientBuilder().WithEndpoint(tcp).WithAuthProvider(DockerTlsCertificates.LoadFromDirectory(rogueDir).CreateCredentials()).Build();
            var rejected = await Assert.ThrowsAnyAsync<Exception>(() => rogue.System.PingAsync(Ct));
            output.WriteLine($"rogue client: {rejected.GetType().Name}: {rejected.Message}");
            using var trusted = new DockerClientBuilder().WithEndpoint(tcp).WithAuthProvider(credentials).Build();
            await trusted.System.PingAsync(Ct);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Plain_TCP_off_loopback_is_refused_before_anything_listens()
    {
        var error = await Assert.ThrowsAsync<InvalidConfigException>(() => DockerApiServer.StartAsync(new DockerApiServerOptions
        {
            SocketPath = Path.Combine(Path.GetTempPath(), $"msb-refused-{Guid.NewGuid():N}.sock"),
            TcpEndpoint = new IPEndPoint(IPAddress.Any, 0),
            Sandbox = VmEnvironment.Options(),
        }, Ct));
        Assert.Contains("plain TCP is served on a loopback address only", error.Message, StringComparison.Ordinal);
    }

    private static X509Certificate2 Authority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>Writes ca.pem, cert.pem and key.pem: a certificate signed by <paramref name="ca"/> (server: for 127.0.0.1).</summary>
    private static void WriteSigned(string dir, X509Certificate2 ca, string name, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [server ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(8);
        using var cert = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), serial);
        File.WriteAllText(Path.Combine(dir, "ca.pem"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "cert.pem"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "key.pem"), key.ExportPkcs8PrivateKeyPem());
    }
}
