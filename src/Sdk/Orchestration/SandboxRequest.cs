using System.Net;

namespace Microsandbox.Orchestration;

/// <summary>
/// The sandbox a build step wants, in build-tool terms. Every setting is optional: the default is the built-in
/// busybox image with the SDK's default resources. Sandboxes made from a request are always ephemeral.
/// </summary>
public sealed record SandboxRequest
{
    /// <summary>Root filesystem: a directory, a disk image (<c>.raw</c>/<c>.qcow2</c>/<c>.vmdk</c>) or an OCI reference; null or empty for the built-in busybox image.</summary>
    public string? Image { get; init; }

    /// <summary>Sandbox name; null for a generated <c>build-…</c> name.</summary>
    public string? Name { get; init; }

    /// <summary>Virtual CPUs; null for the default.</summary>
    public byte? Cpus { get; init; }

    /// <summary>Guest memory in MiB; null for the default.</summary>
    public uint? MemoryMib { get; init; }

    /// <summary>Environment variables of every command in the sandbox.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Host directories bound into the guest.</summary>
    public IReadOnlyList<MountRequest> Mounts { get; init; } = [];

    /// <summary>Guest ports published on 127.0.0.1.</summary>
    public IReadOnlyList<PortRequest> Ports { get; init; } = [];

    /// <summary>Default working directory of commands; null for the image's.</summary>
    public string? Workdir { get; init; }

    /// <summary>Whether <see cref="Image"/> means the built-in busybox image.</summary>
    public bool UsesBuiltinImage => string.IsNullOrEmpty(Image);

    /// <summary>The SDK builder for this request, named <paramref name="name"/>; validation errors surface when it is built.</summary>
    public SandboxBuilder ToBuilder(string name)
    {
        var builder = new SandboxBuilder(name).Ephemeral();
        builder = UsesBuiltinImage ? builder.Image(BuiltinImages.Busybox) : builder.Image(Image!);
        if (Cpus is { } cpus) builder = builder.Cpus(cpus);
        if (MemoryMib is { } memory) builder = builder.Memory(memory);
        if (!string.IsNullOrEmpty(Workdir)) builder = builder.Workdir(Workdir);
        foreach (var (key, value) in Environment) builder = builder.Env(key, value);
        foreach (var mount in Mounts)
        {
            var host = Path.GetFullPath(mount.HostPath);
            builder = builder.Volume(mount.GuestPath, m => mount.ReadOnly ? m.Bind(host).Readonly() : m.Bind(host));
        }
        foreach (var port in Ports) builder = builder.PortBind(IPAddress.Loopback, port.HostPort, port.GuestPort);
        return builder;
    }

    /// <summary>A fresh name for a sandbox made from a request without one.</summary>
    public static string GenerateName() => "build-" + Guid.NewGuid().ToString("N")[..12];
}
