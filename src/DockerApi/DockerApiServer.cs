using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsandbox.DockerApi.Containers;
using Microsandbox.DockerApi.Endpoints;
using Microsandbox.DockerApi.Http;
using Microsandbox.DockerApi.Images;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsandbox.DockerApi;

/// <summary>
/// The Docker Engine API (versions 1.24–1.44) on a unix socket, and optionally on TCP with mutual TLS, backed by
/// microVMs: each container is a sandbox running its image's entrypoint. Point <c>DOCKER_HOST</c> at
/// <see cref="DockerHost"/> and Testcontainers, the docker CLI or Docker.DotNet use it unmodified. Disposing the
/// server stops it and removes every container it started; if the process dies, the sandboxes' own watchdogs take
/// their VMs down with it.
/// </summary>
public sealed class DockerApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _shutdown;
    private readonly ContainerLifecycle _lifecycle;
    private readonly SessionReaper _reaper;
    private readonly ILogger _logger;
    private int _disposed;

    private DockerApiServer(WebApplication app, CancellationTokenSource shutdown, ContainerLifecycle lifecycle, SessionReaper reaper, string socketPath, Uri? tcp, ILogger logger)
    {
        _app = app;
        _reaper = reaper;
        _shutdown = shutdown;
        _lifecycle = lifecycle;
        SocketPath = socketPath;
        TcpUri = tcp;
        _logger = logger;
    }

    /// <summary>The unix socket served.</summary>
    public string SocketPath { get; }

    /// <summary>The TCP endpoint served as <c>tcp://HOST:PORT</c>, or null.</summary>
    public Uri? TcpUri { get; }

    /// <summary>What to put in <c>DOCKER_HOST</c>: <c>unix:///path/to/docker.sock</c>.</summary>
    public string DockerHost => "unix://" + SocketPath;

    /// <summary>Starts serving; returns once the socket (and TCP listener) accept connections.</summary>
    /// <exception cref="InvalidConfigException">An option is invalid, or another server already listens on the socket.</exception>
    public static async Task<DockerApiServer> StartAsync(DockerApiServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DockerApiServerOptions();
        options.Validate();
        var sandboxOptions = options.Sandbox;
        var logger = sandboxOptions.LoggerFactory.CreateLogger("Microsandbox.DockerApi");
        var socketPath = options.ResolvedSocketPath;
        Directory.CreateDirectory(Path.GetDirectoryName(socketPath)!);
        RemoveStaleSocket(socketPath);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddSingleton(sandboxOptions.LoggerFactory);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = ArchiveEntries.MaxBytes;
            kestrel.ListenUnixSocket(socketPath, listen => listen.Use(HijackRequestRewriter.Middleware));
            if (options.TcpEndpoint is { } tcp)
            {
                kestrel.Listen(tcp, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    if (options.TlsDirectory is { } dir) listen.UseHttps(MutualTls(dir));
                    listen.Use(HijackRequestRewriter.Middleware);
                });
            }
        });
        var app = builder.Build();
        var shutdown = new CancellationTokenSource();
        var store = new ContainerStore();
        var images = new ImageStore(sandboxOptions);
        var lifecycle = new ContainerLifecycle(store, sandboxOptions, options.ReadyStateSnapshots ? options.ReadyStateWaitTimeout : null, shutdown.Token);
        var execs = new ExecStore();
        var reaper = new SessionReaper(store, lifecycle, logger);

        app.Use(async (context, next) =>
        {
            try
            {
                ApiVersion.StripPrefix(context.Request);
                if (context.Request.Headers[SessionReaper.SessionHeader].ToString() is { Length: > 0 } session)
                    reaper.Observe(session, context.Features.Get<IConnectionSocketFeature>()?.Socket);
                await next(context).ConfigureAwait(false);
            }
            catch (Exception ex) when (!context.Response.HasStarted && Answer(ex) is { } error)
            {
                if (error.Status >= 500) logger.LogWarning(ex, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
                await DockerJson.Error(error.Status, error.Message).ExecuteAsync(context).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away: nothing to answer.
            }
        });
        // Routing runs after the version prefix is stripped.
        app.UseRouting();
        SystemEndpoints.Map(app, store, sandboxOptions);
        ImageEndpoints.Map(app, images, store);
        ContainerEndpoints.Map(app, store, lifecycle, images);
        ArchiveEndpoints.Map(app, store);
        ExecEndpoints.Map(app, store, execs, shutdown.Token);
        NetworkEndpoints.Map(app);
        VolumeEndpoints.Map(app, store, sandboxOptions);
        app.MapFallback((HttpContext context) =>
            DockerJson.Error(501, $"{context.Request.Method} {context.Request.Path} is not supported by the microsandbox Docker API"));

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        reaper.Start();
        Uri? tcpUri = options.TcpEndpoint is null ? null : new Uri("tcp://" + ResolvedTcp(app, options.TcpEndpoint));
        logger.LogInformation("Docker API on unix://{Socket}{Tcp}", socketPath, tcpUri is null ? "" : " and " + tcpUri);
        return new DockerApiServer(app, shutdown, lifecycle, reaper, socketPath, tcpUri, logger);
    }

    /// <summary>Stops serving, then stops and removes every container this server started. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _logger.LogInformation("Docker API stopping: removing its containers");
        await _shutdown.CancelAsync().ConfigureAwait(false);
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _reaper.DisposeAsync().ConfigureAwait(false);
        await _lifecycle.RemoveAllAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _shutdown.Dispose();
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
        }
    }

    private static (int Status, string Message)? Answer(Exception ex) => ex switch
#pragma warning disable CS8619 // null: no answer
    {
        DockerApiException d => (d.StatusCode, d.Message),
        Microsoft.AspNetCore.Http.BadHttpRequestException b => (b.StatusCode, b.Message),
        ImagePullException p => (404, p.Message),
        InvalidConfigException or SpecJsonException => (400, ex.Message),
        MicrosandboxException => (500, ex.Message),
        OperationCanceledException => null,
        _ => (500, ex.Message),
    };
#pragma warning restore CS8619

    /// <summary>A socket file nobody listens on (a server that died) is removed; a live one is refused.</summary>
    private static void RemoveStaleSocket(string path)
    {
        if (!File.Exists(path)) return;
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            File.Delete(path);
            return;
        }
        throw new InvalidConfigException($"SocketPath '{path}': another server already listens there");
    }

    private static HttpsConnectionAdapterOptions MutualTls(string dir)
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(dir, "ca.pem")));
        return new HttpsConnectionAdapterOptions
        {
            ServerCertificate = X509Certificate2.CreateFromPemFile(Path.Combine(dir, "cert.pem"), Path.Combine(dir, "key.pem")),
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (certificate, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate);
            },
        };
    }

    // Port 0 asks for a free port: the bound one is read back from the server's addresses.
    private static string ResolvedTcp(WebApplication app, IPEndPoint requested)
    {
        if (requested.Port != 0) return requested.ToString();
        var address = app.Urls.Select(u => new Uri(u)).FirstOrDefault(u => u.Scheme is "http" or "https" && u.Host != "localhost" && !u.AbsolutePath.Contains(".sock", StringComparison.Ordinal));
        return address is null ? requested.ToString() : $"{requested.Address}:{address.Port}";
    }
}
