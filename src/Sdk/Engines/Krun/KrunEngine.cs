using System.Text.Json;
using System.Text.Json.Nodes;
using Microsandbox.Host;
using Microsandbox.Runtime;
using Microsandbox.Spec;

namespace Microsandbox.Engines.Krun;

/// <summary>
/// The libkrun engine: the upstream runtime <c>msb sandbox</c> (pinned <see cref="MicrosandboxDefaults.RuntimeVersion"/>)
/// is the sandbox process, started with our argv and our launch config; upstream <c>agentd</c> is the guest agent.
/// </summary>
public sealed class KrunEngine : ISandboxEngine
{
    /// <summary>Creates the engine over a usable runtime location.</summary>
    /// <param name="runtime">Where <c>msb</c> and <c>libkrunfw</c> are (must be <see cref="MsbLocation.IsUsable"/>).</param>
    public KrunEngine(MsbLocation runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        if (!runtime.IsUsable)
            throw new EngineUnavailableException("krun", runtime.Reason ?? "msb or libkrunfw was not found");
        Runtime = runtime;
        SandboxProcessProgram = [runtime.MsbPath!];
    }

    /// <inheritdoc />
    public string Name => "krun";

    /// <summary>The <c>msb</c> binary, its library and version.</summary>
    public MsbLocation Runtime { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> SandboxProcessProgram { get; }

    /// <inheritdoc />
    public SandboxSpec ResolveImage(SandboxSpec spec, string? preparedRootDisk = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        // An OCI image arrives as the ext4 root disk the image layer built; libkrun boots it as any disk-image root
        // (upstream's own EROFS+upper layout is not reproduced).
        return Images.OciImages.ResolveRoot(spec, preparedRootDisk);
    }

    /// <inheritdoc />
    public LaunchConfig Complete(LaunchConfig launch, SandboxSpec spec)
    {
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentNullException.ThrowIfNull(spec);
        var rootfs = launch.Rootfs;
        // libkrun writes straight into a writable root disk; the shared built-in image must stay pristine for every
        // sandbox (QEMU gets the same guarantee from -snapshot), so it is attached read-only.
        if (rootfs.Disk is { } disk && BuiltinImages.IsBusyboxDisk(disk))
            rootfs = rootfs with { DiskReadonly = true };
        return launch with
        {
            LibkrunfwPath = Runtime.LibkrunfwPath!,
            Rootfs = rootfs,
            Network = NetworkFor(spec.Network),
            Qemu = null,
        };
    }

    /// <summary>
    /// The <c>network</c> section msb 0.6.18 reads: a <c>ResolvedNetworkConfig</c> whose <c>config</c> is upstream's
    /// <c>NetworkConfig</c> (enabled, published ports and the spec's own subdocuments). msb rejects a bare
    /// <c>NetworkConfig</c> here with "missing field `config`".
    /// </summary>
    internal static JsonObject NetworkFor(NetworkSpec network) => new() { ["config"] = NetworkConfigFor(network) };

    private static JsonObject NetworkConfigFor(NetworkSpec network)
    {
        var result = new JsonObject { ["enabled"] = network.Enabled };
        if (network.Interface is { } iface) result["interface"] = JsonNode.Parse(iface.GetRawText());
        result["ports"] = new JsonArray(network.Ports.Select(p => (JsonNode)new JsonObject
        {
            ["host_port"] = p.HostPort,
            ["guest_port"] = p.GuestPort,
            ["protocol"] = p.Protocol == PortProtocol.Udp ? "udp" : "tcp",
            ["host_bind"] = p.HostBind,
        }).ToArray());
        AddRaw(result, "policy", network.Policy);
        AddRaw(result, "dns", network.Dns);
        AddRaw(result, "tls", network.Tls);
        AddRaw(result, "secrets", network.Secrets);
        if (network.MaxConnections is { } max) result["max_connections"] = max;
        result["trust_host_cas"] = network.TrustHostCas;
        return result;
    }

    private static void AddRaw(JsonObject target, string key, JsonElement? value)
    {
        if (value is { } v) target[key] = JsonNode.Parse(v.GetRawText());
    }
}
