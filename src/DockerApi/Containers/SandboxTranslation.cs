using System.Formats.Tar;
using System.Net;
using Microsandbox.DockerApi.Http;
using Microsandbox.Spec;

namespace Microsandbox.DockerApi.Containers;

/// <summary>
/// A container's create request as a <see cref="SandboxBuilder"/>: the image's own entrypoint runs as the main
/// process (Docker's merge rules live in the SDK), ports, mounts, resources and files uploaded before start.
/// </summary>
internal static class SandboxTranslation
{
    /// <summary>The label that marks sandboxes this server created, valued with the container ID.</summary>
    public const string ContainerIdLabel = "io.microsandbox.docker-api.id";

    /// <param name="container">The container.</param>
    /// <param name="readyStateWait">When set: ready-state templates, waiting this long for the published TCP ports.</param>
    public static SandboxBuilder Build(DockerContainer container, TimeSpan? readyStateWait = null)
    {
        var request = container.Request;
        var reference = container.Image.Image.References.FirstOrDefault()
            ?? throw DockerApiException.NotFound($"No such image: {request.Image}");
        var builder = new SandboxBuilder(container.Name)
            .Image(reference)
            .PullPolicy(PullPolicy.Never)
            .MainProcess()
            .Hostname(request.Hostname ?? container.Id[..12])
            .Label(ContainerIdLabel, container.Id);
        foreach (var (key, value) in request.Labels) builder = builder.Label(key, value);
        foreach (var (key, value) in ContainerCreateRequest.EnvPairs(request.Env)) builder = builder.Env(key, value);
        if (request.Entrypoint is { } entrypoint) builder = builder.Entrypoint(entrypoint);
        if (request.Cmd is { } cmd) builder = builder.Cmd(cmd);
        if (request.WorkingDir is { } workdir) builder = builder.Workdir(workdir);
        if (request.User is { } user) builder = builder.User(user);
        if (request.StopSignal is { } signal) builder = builder.StopSignal(signal);
        if (request.StopTimeout is { } stopTimeout) builder = builder.StopTimeout(TimeSpan.FromSeconds(Math.Max(0, stopTimeout)));
        if (request.Healthcheck is { Test.Count: > 0 } check && check.Test[0] != "NONE")
            builder = builder.Healthcheck(check.Test, check.Interval, check.Timeout, check.StartPeriod, check.Retries);
        if (request.Memory > 0) builder = builder.Memory((uint)Math.Max(64, (request.Memory + (1 << 20) - 1) >> 20));
        if (request.NanoCpus > 0) builder = builder.Cpus((byte)Math.Clamp((request.NanoCpus + 999_999_999) / 1_000_000_000, 1, 255));
        foreach (var (port, bind) in PublishedPorts(container))
        {
            var address = bind.HostIp.Length == 0 ? IPAddress.Any : IPAddress.Parse(bind.HostIp);
            builder = port.Protocol == "udp"
                ? builder.PortUdpBind(address, (ushort)bind.HostPort, port.Port)
                : builder.PortBind(address, (ushort)bind.HostPort, port.Port);
        }
        foreach (var mount in request.Mounts)
        {
            builder = builder.Volume(mount.Target, m =>
            {
                var kind = mount.Type switch
                {
                    "bind" => m.Bind(mount.Source),
                    "volume" => m.Named(mount.Source),
                    _ => m.Tmpfs(),
                };
                return mount.ReadOnly ? kind.Readonly() : kind;
            });
        }
        if (request.ExtraHosts.Count > 0) builder = builder.Patch(p => p.Append("/etc/hosts", HostsLines(request.ExtraHosts)));
        foreach (var (path, tar) in container.PendingArchives) builder = CopyArchive(builder, path, tar);
        // A ready state is "its published ports listen"; with host state (binds, volumes) there is none to save.
        var readyPorts = PublishedPorts(container).Where(p => p.Port.Protocol == "tcp").Select(p => p.Port.Port).Distinct().ToList();
        if (readyStateWait is { } timeout && readyPorts.Count > 0 && request.Mounts.All(m => m.Type == "tmpfs"))
        {
            builder = builder.ReadyStateSnapshotWhenSupported();
            foreach (var port in readyPorts) builder = builder.WaitFor(Wait.ForPort(port).WithTimeout(timeout));
        }
        return builder;
    }

    /// <summary>The ports to publish: every binding asked for, plus each exposed port when all are published.</summary>
    public static IEnumerable<(ContainerPort Port, PortBinding Bind)> PublishedPorts(DockerContainer container)
    {
        var request = container.Request;
        var seen = new HashSet<ContainerPort>();
        foreach (var (text, bindings) in request.PortBindings)
        {
            var port = ContainerPort.Parse(text);
            seen.Add(port);
            foreach (var bind in bindings)
            {
                if (bind.HostIp.Length > 0 && !IPAddress.TryParse(bind.HostIp, out _))
                    throw DockerApiException.BadRequest($"PortBindings[{text}].HostIp '{bind.HostIp}' is not an IP address");
                yield return (port, bind);
            }
        }
        if (!request.PublishAllPorts) yield break;
        foreach (var text in request.ExposedPorts.Concat(container.Image.Config.ExposedPorts))
        {
            var port = ContainerPort.Parse(text);
            if (seen.Add(port)) yield return (port, new PortBinding("", 0));
        }
    }

    /// <summary>
    /// <c>HostConfig.ExtraHosts</c> (<c>NAME:IP</c>) as <c>/etc/hosts</c> lines; <c>host-gateway</c> is the address
    /// the guest reaches this host at (QEMU user networking's 10.0.2.2).
    /// </summary>
    internal static string HostsLines(IEnumerable<string> extraHosts)
    {
        var lines = new System.Text.StringBuilder();
        foreach (var entry in extraHosts)
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            var name = colon > 0 ? entry[..colon] : "";
            var address = colon > 0 ? entry[(colon + 1)..].Trim('[', ']') : "";
            if (address == "host-gateway") address = "10.0.2.2";
            if (name.Length == 0 || name.Any(c => char.IsWhiteSpace(c) || c == '#') || !IPAddress.TryParse(address, out _))
                throw DockerApiException.BadRequest($"ExtraHosts entry '{entry}': expected NAME:IP (or NAME:host-gateway)");
            lines.Append(address).Append('\t').Append(name).Append('\n');
        }
        return lines.ToString();
    }

    /// <summary>Adds the regular files of an uploaded tar as copy-ins under <paramref name="directory"/>.</summary>
    private static SandboxBuilder CopyArchive(SandboxBuilder builder, string directory, byte[] tar)
    {
        foreach (var entry in ArchiveEntries.Read(tar))
        {
            if (entry.Type is TarEntryType.Directory) continue; // parents are made as mkdir -p would
            var guestPath = ArchiveEntries.GuestPath(directory, entry.Name);
            builder = builder.CopyIn(entry.Content, guestPath, entry.Mode, entry.Uid, entry.Gid);
        }
        return builder;
    }
}
