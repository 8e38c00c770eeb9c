using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsandbox.Agent;
using Microsandbox.DockerApi.Containers;
using Microsandbox.DockerApi.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Microsandbox.DockerApi.Endpoints;

/// <summary>
/// <c>/containers/{id}/archive</c>: tar uploads (kept until start for a created container, written through the agent
/// for a running one) and downloads with Docker's <c>X-Docker-Container-Path-Stat</c> header.
/// </summary>
internal static class ArchiveEndpoints
{
    private const string StatHeader = "X-Docker-Container-Path-Stat";

    public static void Map(IEndpointRouteBuilder app, ContainerStore store)
    {
        app.MapPut("/containers/{id}/archive", async (string id, HttpContext context) =>
        {
            var container = store.Get(id);
            var path = RequiredPath(context.Request);
            context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = ArchiveEntries.MaxBytes;
            var tar = await ReadTarAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            var entries = ArchiveEntries.Read(tar); // refuses what cannot be copied before anything is kept or written
            await container.Gate.WaitAsync(context.RequestAborted).ConfigureAwait(false);
            try
            {
                switch (container.Status)
                {
                    case ContainerStatus.Created:
                        container.PendingArchives.Add((path, tar));
                        break;
                    case ContainerStatus.Running when container.Sandbox is { } sandbox:
                        await WriteAsync(sandbox.Fs, path, entries, context.RequestAborted).ConfigureAwait(false);
                        break;
                    default:
                        throw DockerApiException.Conflict($"container {container.Id} is not running: files can be copied into a created or running container only (its VM is gone once it exits)");
                }
            }
            finally
            {
                container.Gate.Release();
            }
            return Results.Ok();
        });
        app.MapMethods("/containers/{id}/archive", ["HEAD"], async (string id, HttpContext context) =>
        {
            var (_, stat) = await StatAsync(store.Get(id), RequiredPath(context.Request), context.RequestAborted).ConfigureAwait(false);
            context.Response.Headers[StatHeader] = StatHeaderValue(RequiredPath(context.Request), stat);
            return Results.Ok();
        });
        app.MapGet("/containers/{id}/archive", async (string id, HttpContext context) =>
        {
            var path = RequiredPath(context.Request);
            var (fs, stat) = await StatAsync(store.Get(id), path, context.RequestAborted).ConfigureAwait(false);
            var tar = await PackAsync(fs, path, stat, context.RequestAborted).ConfigureAwait(false);
            context.Response.Headers[StatHeader] = StatHeaderValue(path, stat);
            return Results.Bytes(tar, "application/x-tar");
        });
    }

    private static string RequiredPath(HttpRequest request)
    {
        var path = request.Query["path"].ToString();
        if (path.Length == 0) throw DockerApiException.BadRequest("path is required");
        return path.StartsWith('/') ? path : "/" + path;
    }

    private static async Task<byte[]> ReadTarAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        var bytes = buffer.ToArray();
        if (bytes.Length < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b) return bytes;
        // Docker accepts gzip-compressed archives too.
        using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        await gzip.CopyToAsync(plain, cancellationToken).ConfigureAwait(false);
        if (plain.Length > ArchiveEntries.MaxBytes) throw DockerApiException.BadRequest($"archive: more than {ArchiveEntries.MaxBytes >> 20} MiB");
        return plain.ToArray();
    }

    private static async Task WriteAsync(SandboxFileSystem fs, string directory, IReadOnlyList<ArchiveEntries.Entry> entries, CancellationToken cancellationToken)
    {
        foreach (var entry in entries)
        {
            var guestPath = ArchiveEntries.GuestPath(directory, entry.Name);
            if (entry.Type == TarEntryType.Directory)
            {
                await fs.MkdirAsync(guestPath, entry.Mode & 0xfff, cancellationToken).ConfigureAwait(false);
                continue;
            }
            var parent = guestPath[..guestPath.LastIndexOf('/')];
            if (parent.Length > 0) await fs.MkdirAsync(parent, null, cancellationToken).ConfigureAwait(false);
            await fs.WriteAsync(guestPath, entry.Content, entry.Mode, cancellationToken).ConfigureAwait(false);
            if (entry.Uid != 0 || entry.Gid != 0) await fs.ChownAsync(guestPath, entry.Uid, entry.Gid, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<(SandboxFileSystem Fs, FsEntryInfo Stat)> StatAsync(DockerContainer container, string path, CancellationToken cancellationToken)
    {
        if (container.Status != ContainerStatus.Running || container.Sandbox is not { } sandbox)
            throw DockerApiException.Conflict($"container {container.Id} is not running: files are read from a running container only");
        try
        {
            return (sandbox.Fs, await sandbox.Fs.StatAsync(path, cancellationToken).ConfigureAwait(false));
        }
        catch (SandboxFsException)
        {
            throw DockerApiException.NotFound($"Could not find the file {path} in container {container.Name}");
        }
    }

    /// <summary>A tar of the file or tree at <paramref name="path"/>, its top entry named after the last path segment.</summary>
    private static async Task<byte[]> PackAsync(SandboxFileSystem fs, string path, FsEntryInfo stat, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        long total = 0;
        await using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            async Task AddAsync(string guestPath, string name, FsEntryInfo info)
            {
                if (info.IsDirectory)
                {
                    await writer.WriteEntryAsync(Entry(TarEntryType.Directory, name + "/", info), cancellationToken).ConfigureAwait(false);
                    foreach (var child in await fs.ListAsync(guestPath, cancellationToken).ConfigureAwait(false))
                    {
                        var childName = child.Path[(child.Path.LastIndexOf('/') + 1)..];
                        await AddAsync(guestPath.TrimEnd('/') + "/" + childName, name + "/" + childName, child).ConfigureAwait(false);
                    }
                }
                else if (info.IsFile)
                {
                    total += (long)info.Size;
                    if (total > ArchiveEntries.MaxBytes) throw DockerApiException.BadRequest($"archive of {path}: more than {ArchiveEntries.MaxBytes >> 20} MiB");
                    var content = await fs.ReadAsync(guestPath, cancellationToken).ConfigureAwait(false);
                    var entry = Entry(TarEntryType.RegularFile, name, info);
                    entry.DataStream = new MemoryStream(content);
                    await writer.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
                }
                // Symlinks, devices and sockets are left out: the agent reads regular files only.
            }
            var top = path.TrimEnd('/');
            await AddAsync(path, top.Length == 0 ? "/" : top[(top.LastIndexOf('/') + 1)..], stat).ConfigureAwait(false);
        }
        return buffer.ToArray();
    }

    private static PaxTarEntry Entry(TarEntryType type, string name, FsEntryInfo info) => new(type, name)
    {
        Mode = (UnixFileMode)(info.Mode & 0xfff),
        Uid = (int)info.Uid,
        Gid = (int)info.Gid,
        ModificationTime = info.Mtime is { } m ? DateTimeOffset.FromUnixTimeSeconds(m) : DateTimeOffset.UnixEpoch,
    };

    /// <summary>Base64 of <c>{"name","size","mode","mtime","linkTarget"}</c>, the mode in Go's <c>os.FileMode</c> bits.</summary>
    private static string StatHeaderValue(string path, FsEntryInfo stat)
    {
        uint mode = stat.Mode & 0x1ff;
        if (stat.IsDirectory) mode |= 1u << 31;
        if (stat.IsSymlink) mode |= 1u << 27;
        var top = path.TrimEnd('/');
        var json = JsonSerializer.Serialize(new
        {
            name = top.Length == 0 ? "/" : top[(top.LastIndexOf('/') + 1)..],
            size = stat.Size,
            mode,
            mtime = DockerJson.Time(stat.Mtime is { } m ? DateTimeOffset.FromUnixTimeSeconds(m) : null),
            linkTarget = "",
        });
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
    }
}
