using System.Text;

namespace Microsandbox.Host;

/// <summary>
/// The last lines of a log another process is still writing (or has deleted): only the file's last bytes are read,
/// so a guest that floods its console costs the host a bounded read. Lines come back trimmed, empty ones dropped.
/// </summary>
internal static class LogTail
{
    /// <summary>How much of a log's end is read unless told otherwise.</summary>
    public const int DefaultBytes = 64 * 1024;

    /// <summary>The last lines within the final <paramref name="maxBytes"/> of an open log (read from its start again).</summary>
    /// <exception cref="IOException">The log cannot be read.</exception>
    public static IReadOnlyList<string> Lines(FileStream log, int maxBytes = DefaultBytes)
    {
        var start = Math.Max(0, log.Length - maxBytes);
        var buffer = new byte[log.Length - start];
        log.Seek(start, SeekOrigin.Begin);
        log.ReadExactly(buffer);
        return Encoding.UTF8.GetString(buffer).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
    }

    /// <summary>The same for a log by path.</summary>
    /// <exception cref="IOException">The log is missing or cannot be read.</exception>
    public static IReadOnlyList<string> Lines(string path, int maxBytes = DefaultBytes)
    {
        using var log = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return Lines(log, maxBytes);
    }
}
