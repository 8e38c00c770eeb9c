using System.Runtime.InteropServices;
using Microsandbox.DockerApi.Containers;
using Microsandbox.DockerApi.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsandbox.DockerApi.Endpoints;

/// <summary><c>/_ping</c>, <c>/version</c>, <c>/info</c>: what clients read to decide they talk to a Docker engine.</summary>
internal static class SystemEndpoints
{
    public const string ServerVersion = "24.0.0-microsandbox";

    public static void Map(IEndpointRouteBuilder app, ContainerStore containers, SandboxOptions options)
    {
        app.MapMethods("/_ping", ["GET", "HEAD"], (HttpContext context) =>
        {
            PingHeaders(context.Response);
            return context.Request.Method == "HEAD" ? Results.Empty : Results.Text("OK", "text/plain");
        });
        app.MapGet("/version", () => DockerJson.Ok(new
        {
            Platform = new { Name = "microsandbox" },
            Components = new[] { new { Name = "Engine", Version = ServerVersion, Details = new { ApiVersion = ApiVersion.Current, MinAPIVersion = ApiVersion.Minimum, Os = "linux", Arch = "amd64" } } },
            Version = ServerVersion,
            ApiVersion = ApiVersion.Current,
            MinAPIVersion = ApiVersion.Minimum,
            GitCommit = "",
            GoVersion = "",
            Os = "linux",
            Arch = "amd64",
            KernelVersion = KernelVersion(),
            BuildTime = "",
        }));
        app.MapGet("/info", () =>
        {
            var all = containers.All;
            return DockerJson.Ok(new
            {
                ID = Environment.MachineName,
                Containers = all.Count,
                ContainersRunning = all.Count(c => c.Status == ContainerStatus.Running),
                ContainersPaused = 0,
                ContainersStopped = all.Count(c => c.Status != ContainerStatus.Running),
                Images = 0,
                Driver = "microsandbox",
                DockerRootDir = options.StateDirectory,
                Name = Environment.MachineName,
                ServerVersion,
                ApiVersion = ApiVersion.Current,
                MinAPIVersion = ApiVersion.Minimum,
                OperatingSystem = "microsandbox microVMs",
                OSType = "linux",
                OSVersion = "",
                Architecture = "x86_64",
                KernelVersion = KernelVersion(),
                NCPU = Environment.ProcessorCount,
                MemTotal = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
                Labels = Array.Empty<string>(),
                IndexServerAddress = "https://index.docker.io/v1/",
                RegistryConfig = new { InsecureRegistryCIDRs = new[] { "127.0.0.0/8" } },
                SecurityOptions = Array.Empty<string>(),
                CgroupDriver = "none",
                CgroupVersion = "2",
                Runtimes = new Dictionary<string, object> { ["microsandbox"] = new { path = "microsandbox" } },
                DefaultRuntime = "microsandbox",
                Swarm = new { LocalNodeState = "inactive" },
            });
        });
    }

    /// <summary>The headers Docker puts on <c>/_ping</c> (clients negotiate the API version from them).</summary>
    private static void PingHeaders(HttpResponse response)
    {
        response.Headers["API-Version"] = ApiVersion.Current;
        response.Headers["OSType"] = "linux";
        response.Headers["Docker-Experimental"] = "false";
        response.Headers["Builder-Version"] = "1";
        response.Headers.CacheControl = "no-cache, no-store, must-revalidate";
        response.Headers.Pragma = "no-cache";
    }

    private static string KernelVersion()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.OSDescription;
        }
    }
}
