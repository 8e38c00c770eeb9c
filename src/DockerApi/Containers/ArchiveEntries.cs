using System.Formats.Tar;
using Microsandbox.DockerApi.Http;

namespace Microsandbox.DockerApi.Containers;

/// <summary>
/// The entries of a tar sent to <c>PUT /containers/{id}/archive</c>, bounded: regular files and directories only
/// (links and devices are refused by name), names kept inside the target directory.
/// </summary>
internal static class ArchiveEntries
{
    /// <summary>The most an upload may hold, unpacked.</summary>
    public const long MaxBytes = 1L << 30;

    public sealed record Entry(string Name, TarEntryType Type, byte[] Content, uint Mode, uint Uid, uint Gid);

    public static IReadOnlyList<Entry> Read(byte[] tar)
    {
        var entries = new List<Entry>();
        long total = 0;
        try
        {
            using var reader = new TarReader(new MemoryStream(tar));
            while (reader.GetNextEntry(copyData: false) is { } entry)
            {
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        entries.Add(new Entry(entry.Name, entry.EntryType, [], (uint)entry.Mode, (uint)entry.Uid, (uint)entry.Gid));
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        total += entry.Length;
                        if (total > MaxBytes) throw DockerApiException.BadRequest($"archive: more than {MaxBytes >> 20} MiB unpacked");
                        var content = new byte[entry.Length];
                        if (entry.DataStream is { } data) data.ReadExactly(content);
                        entries.Add(new Entry(entry.Name, TarEntryType.RegularFile, content, (uint)entry.Mode & 0xfff, (uint)entry.Uid, (uint)entry.Gid));
                        break;
                    case TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes:
                        break;
                    default:
                        throw DockerApiException.NotImplemented($"archive entry '{entry.Name}' of type {entry.EntryType} (only files and directories are copied)");
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw DockerApiException.BadRequest($"archive: not a valid tar ({ex.Message})");
        }
        return entries;
    }

    /// <summary>Joins an entry name to the target directory; a name that climbs out of it is refused.</summary>
    public static string GuestPath(string directory, string name)
    {
        var parts = new List<string>();
        foreach (var part in (directory.TrimEnd('/') + "/" + name).Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") continue;
            if (part == "..")
            {
                if (parts.Count == 0) throw DockerApiException.BadRequest($"archive entry '{name}' leaves the target directory");
                parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        return "/" + string.Join('/', parts);
    }
}
