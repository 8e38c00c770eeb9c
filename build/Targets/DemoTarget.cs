using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsandbox.Orchestration;

namespace Microsandbox.Build.Targets;

/// <summary>
/// The main job: runs the freshly built <c>microsandbox</c> CLI through <see cref="DemoScript.Commands"/>, then boots
/// a microVM through the SDK's build-tool-neutral orchestration API (the same one the MSBuild tasks use) and runs
/// <see cref="DemoScript.GuestScript"/> in it, streaming the guest's output here. The VM is always torn down.
/// </summary>
internal sealed class DemoTarget : BuildTarget
{
    public override string Name => "Demo";

    public override string Description => "run the microsandbox CLI on the sample, boot a microVM and run a command in it, then run Redis from its image and talk to it from the host";

    public override IReadOnlyList<string> DependsOn => ["Install", "Native", "Images", "Compile"];

    public override async Task RunAsync(BuildContext context, CancellationToken cancellationToken)
    {
        // Relative to the repository root, where commands run, so the echoed command line stays short.
        var cli = Path.Combine("src", "Cli", "bin", context.Options.Configuration, "net10.0", "Microsandbox.Cli.dll");
        if (!File.Exists(Path.Combine(context.RepoRoot, cli)))
        {
            throw new BuildFailedException($"the CLI was not built: {cli} is missing");
        }

        foreach (var command in DemoScript.Commands)
        {
            await context.Runner.RunAsync("dotnet", [cli, .. command], cancellationToken, context.RuntimeEnvironment);
        }

        await RunInMicroVmAsync(context, cancellationToken);
        await RunServiceAsync(context, cli, cancellationToken);
    }

    /// <summary>
    /// What the toolkit is for: a service from its image (Redis, built from Debian's packages by the Images target),
    /// started detached by the CLI, spoken to from the host over its published port, then its logs, stop and removal.
    /// </summary>
    private static async Task RunServiceAsync(BuildContext context, string cli, CancellationToken cancellationToken)
    {
        // "./" makes it a path: a bare "artifacts/images/redis" is an image reference on Docker Hub, as for docker.
        var image = "./" + Path.Combine("artifacts", "images", "redis");
        var name = "demo-redis-" + Guid.NewGuid().ToString("N")[..8];
        int port = FreePort();
        Task Cli(params string[] arguments) => context.Runner.RunAsync("dotnet", [cli, .. arguments], cancellationToken, context.RuntimeEnvironment);
        await Cli("run", "-d", "--name", name, "--image", image, "-p", $"{port}:6379");
        try
        {
            var set = await RespAsync(port, ["SET", "greeting", "hello from the host"], cancellationToken);
            var get = await RespAsync(port, ["GET", "greeting"], cancellationToken);
            // RESP: "+OK" for the SET, "$19" then the value for the GET.
            BuildLog.Info($"from the host over 127.0.0.1:{port}: SET → {set.Trim()}, GET → {get.Split("\r\n")[^2]}");
            if (!get.Contains("hello from the host", StringComparison.Ordinal))
                throw new BuildFailedException($"Redis in {name} answered GET with '{get.Trim()}'");
            await Cli("exec", name, "--", "redis-cli", "GET", "greeting");
            await Cli("stop", name);
            await Cli("logs", "--tail", "4", name);
        }
        finally
        {
            await context.Runner.RunUncheckedAsync("dotnet", [cli, "rm", "--force", name], CancellationToken.None, context.RuntimeEnvironment);
        }
    }

    /// <summary>One RESP command over TCP, retried while the server is still starting (30 s at most); returns the raw reply.</summary>
    private static async Task<string> RespAsync(int port, IReadOnlyList<string> command, CancellationToken cancellationToken)
    {
        var request = new StringBuilder($"*{command.Count}\r\n");
        foreach (var part in command) request.Append($"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                var stream = client.GetStream();
                await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), cancellationToken);
                var buffer = new byte[512];
                int n = await stream.ReadAsync(buffer, cancellationToken);
                if (n > 0) return Encoding.UTF8.GetString(buffer, 0, n);
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow >= deadline) throw new BuildFailedException($"Redis did not answer on 127.0.0.1:{port} within 30 s");
            await Task.Delay(250, cancellationToken);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunInMicroVmAsync(BuildContext context, CancellationToken cancellationToken)
    {
        // The built-in image and the kernel live where Native wrote them; the SDK (and the sandbox process it starts)
        // read that location from MSB_QEMU_ASSETS.
        Environment.SetEnvironmentVariable("MSB_QEMU_ASSETS", context.NativeOutDir);
        var orchestrator = new SandboxOrchestrator(new SandboxOptions { QemuAssetsDirectory = context.NativeOutDir });
        await orchestrator.PrepareImagesAsync([null], cancellationToken);

        var command = CommandRequest.Shell(DemoScript.GuestScript) with { Timeout = TimeSpan.FromMinutes(2) };
        BuildLog.Command($"microVM (built-in busybox image): /bin/sh -c '{DemoScript.GuestScript}'");
        var result = await orchestrator.RunAsync(
            new SandboxRequest { Environment = new Dictionary<string, string> { ["DEMO_FROM"] = "the build program" } },
            command,
            OutputSink.FromCallback(line => BuildLog.Info((line.Stream == OutputStream.Stderr ? "[guest stderr] " : "[guest] ") + line.Text)),
            cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new BuildFailedException($"the demo command exited with code {result.ExitCode} in sandbox {result.SandboxName}", result.ExitCode);
        }

        BuildLog.Info($"sandbox {result.SandboxName} ran the command (exit code 0) and was removed");
    }
}
