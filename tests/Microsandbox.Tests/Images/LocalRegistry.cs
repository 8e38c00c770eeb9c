using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsandbox.Config;
using Microsandbox.Engines.Qemu;
using Microsandbox.Images;

namespace Microsandbox.Tests.Images;

/// <summary>
/// A real registry (Debian's <c>docker-registry</c>, distribution 2.8) on 127.0.0.1 with its own temp storage and
/// config, optionally behind htpasswd auth. Its access log is kept so tests can count blob downloads.
/// </summary>
public sealed class LocalRegistry : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log;

    private LocalRegistry(Process process, ConcurrentQueue<string> log, string directory, int port, RegistryAuth? auth)
    {
        _process = process;
        _log = log;
        Directory = directory;
        Port = port;
        Auth = auth;
    }

    /// <summary>The registry's temp directory (config, storage).</summary>
    public string Directory { get; }

    /// <summary>The port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Credentials the registry requires, if any.</summary>
    public RegistryAuth? Auth { get; }

    /// <summary>host:port.</summary>
    public string Host => $"127.0.0.1:{Port}";

    /// <summary>Skips the test when the registry program is missing.</summary>
    public static void Require()
    {
        if (QemuAssets.FindOnPath("docker-registry") is null) Assert.Skip("docker-registry is not installed (Debian package docker-registry; ./build.sh Install)");
    }

    /// <summary>Starts a registry; with <paramref name="user"/> it requires that user's basic credentials.</summary>
    public static Task<LocalRegistry> StartAsync(string? user = null, string? password = null) =>
        StartAsync(System.IO.Directory.CreateTempSubdirectory("msb-registry-").FullName, user, password, null);

    /// <summary>Starts a registry whose auth is delegated to a token server created in <paramref name="dir"/>.</summary>
    public static Task<LocalRegistry> StartWithTokenAuthAsync(string dir, TokenServer token, string user, string password) =>
        StartAsync(dir, user, password, token);

    private static async Task<LocalRegistry> StartAsync(string dir, string? user, string? password, TokenServer? token)
    {
        Require();
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var auth = "";
        if (token is not null)
        {
            auth = token.RegistryAuthYaml;
        }
        else if (user is not null)
        {
            if (QemuAssets.FindOnPath("htpasswd") is null) Assert.Skip("htpasswd is not installed (Debian package apache2-utils; ./build.sh Install)");
            var htpasswd = await RunAsync("htpasswd", ["-Bbn", user, password ?? ""]);
            await File.WriteAllTextAsync(Path.Combine(dir, "htpasswd"), htpasswd.Trim() + "\n");
            auth = $"auth:\n  htpasswd:\n    realm: msb-test\n    path: {dir}/htpasswd\n";
        }
        var config = Path.Combine(dir, "config.yml");
        await File.WriteAllTextAsync(config,
            $"version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {dir}/storage\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}");
        var start = new ProcessStartInfo("docker-registry") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(config);
        var process = Process.Start(start)!;
        var log = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new LocalRegistry(process, log, dir, port, user is null ? null : RegistryAuth.Basic(user, password ?? ""));
        using var http = new HttpClient();
        for (int i = 0; ; i++)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/v2/"));
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized) return registry;
            }
            catch (HttpRequestException) when (i < 200 && !process.HasExited)
            {
            }
            if (process.HasExited || i >= 200)
            {
                await registry.DisposeAsync();
                throw new InvalidOperationException($"docker-registry did not start: {string.Join('\n', log)}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>How many times a blob was fetched with GET (from the access log), optionally only those answered with <paramref name="status"/>.</summary>
    public async Task<int> BlobGetsAsync(string digest, int? status = null)
    {
        // The access log arrives through a pipe after the response: a marker request, logged after every earlier
        // request, says when the log has caught up.
        var marker = Guid.NewGuid().ToString("N");
        using (var http = new HttpClient())
        {
            using var _ = await http.GetAsync(new Uri($"http://127.0.0.1:{Port}/v2/?sync={marker}"));
        }
        for (int i = 0; i < 200 && !_log.Any(l => l.Contains(marker, StringComparison.Ordinal)); i++) await Task.Delay(25);
        return _log.Count(l => l.Contains("\"GET /v2/", StringComparison.Ordinal) && l.Contains("/blobs/" + digest, StringComparison.Ordinal)
            && (status is null || l.Contains($"HTTP/1.1\" {status} ", StringComparison.Ordinal)));
    }

    /// <summary>Pushes an image with our client (as the configured user).</summary>
    public async Task<string> PushAsync(string repositoryAndTag, TestImage image)
    {
        var reference = ImageReference.Parse($"{Host}/{repositoryAndTag}");
        using var client = new RegistryClient(Auth);
        foreach (var blob in image.Blobs) await client.PushBlobAsync(reference, blob);
        await client.PushManifestAsync(reference, reference.Tag!, image.Manifest, OciMediaTypes.ImageManifest);
        return reference.Original;
    }

    /// <summary>The registry's stored file for a blob.</summary>
    public string BlobDataPath(string digest)
    {
        var hex = Digest.Hex(digest);
        return Path.Combine(Directory, "storage", "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
    }

    internal static async Task<string> RunAsync(string program, IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) start.Environment[k] = v;
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} failed ({p.ExitCode}): {await stderr}{await stdout}");
        return await stdout;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException) { }
    }
}
