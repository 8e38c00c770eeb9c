using System.CommandLine;
using System.Net;
using Microsandbox.DockerApi;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Cli.Commands;

/// <summary>
/// <c>microsandbox docker-api [--socket PATH] [--tcp HOST:PORT --tlsverify --tlscert-dir DIR]</c>: serves the Docker
/// Engine API in the foreground until Ctrl+C or SIGTERM, then removes every container it started.
/// </summary>
public static class DockerApiCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var socket = new Option<string?>("--socket") { Description = "The unix socket (default: docker.sock in the state directory, $MSB_HOME or ~/.microsandbox)." };
        var tcp = new Option<string?>("--tcp") { Description = "Also listen on HOST:PORT; plain TCP only on a loopback address, else with --tlsverify." };
        var tlsVerify = new Option<bool>("--tlsverify") { Description = "Mutual TLS on --tcp: clients need a certificate signed by ca.pem (Docker's convention)." };
        var certDir = new Option<string?>("--tlscert-dir") { Description = "Directory with ca.pem, cert.pem and key.pem (default: $DOCKER_CERT_PATH)." };
        var readyState = new Option<bool>("--ready-state") { Description = "Ready-state templates: containers publishing TCP ports start once they listen, and later ones of the same shape resume from the first (docs/docker-api.md)." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every container's progress." };
        var command = new Command("docker-api", "Serve the Docker Engine API backed by microVMs (DOCKER_HOST=unix://…).") { socket, tcp, tlsVerify, certDir, readyState, verbose };
        command.SetAction(async (parse, ct) =>
        {
            using var loggerFactory = LoggerFactory.Create(b => b
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
                .SetMinimumLevel(parse.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning)
                .AddFilter("Microsandbox.DockerApi", LogLevel.Information)
                .AddFilter("Microsoft", LogLevel.Warning));
            IPEndPoint? endpoint = null;
            if (parse.GetValue(tcp) is { } text && !IPEndPoint.TryParse(text, out endpoint))
                throw new InvalidConfigException($"--tcp '{text}': expected HOST:PORT with an IP address (127.0.0.1:2375)");
            string? tlsDirectory = null;
            if (parse.GetValue(tlsVerify))
            {
                tlsDirectory = parse.GetValue(certDir) ?? Environment.GetEnvironmentVariable("DOCKER_CERT_PATH")
                    ?? throw new InvalidConfigException("--tlsverify needs --tlscert-dir or DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem)");
            }
            var options = new DockerApiServerOptions
            {
                SocketPath = parse.GetValue(socket),
                TcpEndpoint = endpoint,
                TlsDirectory = tlsDirectory,
                ReadyStateSnapshots = parse.GetValue(readyState),
                Sandbox = new SandboxOptions { LoggerFactory = loggerFactory },
            };
            await using var server = await DockerApiServer.StartAsync(options, ct);
            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync($"DOCKER_HOST={server.DockerHost}");
            if (server.TcpUri is { } uri) await output.WriteLineAsync($"DOCKER_HOST={uri}");
            await output.FlushAsync(ct);
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: disposing the server removes its containers.
            }
            return 0;
        });
        return command;
    }
}
