using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsandbox.Spec;

namespace Microsandbox.Runtime;

/// <summary>
/// <c>logs/exec.log</c>, the main process's output as upstream's runtime keeps it (<c>crates/runtime/lib/exec_log.rs</c>):
/// JSON lines <c>{"t":"2026-04-30T20:32:59.688Z","s":"stdout","d":"…","id":1}</c>, <c>s</c> one of
/// stdout/stderr/output/system (system lines carry no <c>id</c>), rotated at 10 MiB into <c>exec.log.1</c>..<c>.3</c>
/// (40 MiB at most). We write one entry per output line (a chunk without a newline is held until one arrives, 16 KiB
/// at most), so a reader's entry is a line.
/// </summary>
internal static class ExecLog
{
    public const string FileName = "exec.log";
    internal const long MaxFileBytes = 10 * 1024 * 1024;
    internal const int RotatedFiles = 3;
    internal const int MaxLineBytes = 16 * 1024;

    /// <summary>The files holding the log, oldest first.</summary>
    public static IEnumerable<string> Files(string logDir)
    {
        var current = Path.Combine(logDir, FileName);
        for (int i = RotatedFiles; i >= 1; i--)
        {
            var rotated = $"{current}.{i}";
            if (File.Exists(rotated)) yield return rotated;
        }
        if (File.Exists(current)) yield return current;
    }

    /// <summary>The entries <paramref name="options"/> selects (default: the program's own output), oldest first.</summary>
    public static Task<IReadOnlyList<LogEntry>> ReadAsync(string logDir, LogOptions? options, CancellationToken cancellationToken)
    {
        var filter = options ?? new LogOptions();
        return Task.Run(() => filter.Apply(ReadAll(logDir)), cancellationToken);
    }

    /// <summary><see cref="FollowAsync(string, Func{bool}, CancellationToken)"/>, keeping what <paramref name="options"/> selects.</summary>
    public static async IAsyncEnumerable<LogEntry> FollowAsync(string logDir, Func<bool> ended, LogOptions? options,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var filter = options ?? new LogOptions();
        await foreach (var entry in FollowAsync(logDir, ended, cancellationToken).ConfigureAwait(false))
        {
            if (filter.Includes(entry)) yield return entry;
        }
    }

    /// <summary>Every entry, oldest first; lines that are not entries (a torn last line) are skipped.</summary>
    public static List<LogEntry> ReadAll(string logDir) => [.. Files(logDir).SelectMany(ReadFile)];

    /// <summary>
    /// Every entry, then each new one as it is written, until <paramref name="ended"/> says the writer is gone and
    /// the file is drained, or <paramref name="cancellationToken"/> is cancelled. Survives rotation: the renamed
    /// file is read to its end before the new one is opened.
    /// </summary>
    public static async IAsyncEnumerable<LogEntry> FollowAsync(string logDir, Func<bool> ended,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(logDir, FileName);
        foreach (var file in Files(logDir).Where(f => f != path))
        {
            foreach (var entry in ReadFile(file)) yield return entry;
        }
        FileStream? stream = null;
        StreamReader? reader = null;
        try
        {
            var partial = new StringBuilder();
            while (true)
            {
                if (stream is null && File.Exists(path))
                {
                    try
                    {
                        stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                        reader = new StreamReader(stream, Encoding.UTF8);
                    }
                    catch (FileNotFoundException) { }
                }
                bool progressed = false;
                if (reader is not null)
                {
                    // ReadLine would hand out a line still being written: only complete lines count.
                    var buffer = new char[8192];
                    int n;
                    while ((n = await reader.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        progressed = true;
                        partial.Append(buffer, 0, n);
                        var text = partial.ToString();
                        int last = text.LastIndexOf('\n');
                        if (last < 0) continue;
                        foreach (var line in text[..last].Split('\n'))
                        {
                            if (Parse(line) is { } entry) yield return entry;
                        }
                        partial.Clear().Append(text, last + 1, text.Length - last - 1);
                    }
                }
                if (progressed) continue;
                // Rotated: the open file was renamed away and a new one took its name.
                if (stream is not null && Host.Libc.Inode(path) is { } current && Host.Libc.Inode((int)stream.SafeFileHandle.DangerousGetHandle()) != current)
                {
                    reader!.Dispose();
                    stream = null;
                    reader = null;
                    partial.Clear();
                    continue;
                }
                if (ended())
                {
                    // One more pass: the writer's last lines may have landed after the read above.
                    if (reader is not null && await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false) is { Length: > 0 } rest)
                    {
                        foreach (var line in (partial + rest).Split('\n'))
                        {
                            if (Parse(line) is { } entry) yield return entry;
                        }
                    }
                    yield break;
                }
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            reader?.Dispose();
            stream?.Dispose();
        }
    }

    private static IEnumerable<LogEntry> ReadFile(string file)
    {
        List<LogEntry> entries = [];
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (reader.ReadLine() is { } line)
            {
                if (Parse(line) is { } entry) entries.Add(entry);
            }
        }
        catch (FileNotFoundException)
        {
            // Rotated away between listing and opening: its entries are in the next file.
        }
        return entries;
    }

    /// <summary>One JSON line as an entry, or null when it is not one.</summary>
    public static LogEntry? Parse(string line)
    {
        if (line.Length == 0) return null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("t", out var t) || t.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("s", out var s) || s.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("d", out var d) || d.ValueKind != JsonValueKind.String)
                return null;
            if (!DateTimeOffset.TryParse(t.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)) return null;
            LogSource? source = s.GetString() switch
            {
                "stdout" => LogSource.Stdout,
                "stderr" => LogSource.Stderr,
                "output" => LogSource.Output,
                "system" => LogSource.System,
                _ => null,
            };
            if (source is null) return null;
            var text = d.GetString()!;
            if (text.EndsWith('\n')) text = text[..^1];
            return new LogEntry(at, source.Value, text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The writer the sandbox process feeds with the main process's output. Thread-safe; a write failure (disk
    /// full) drops the entry rather than stopping the sandbox.
    /// </summary>
    public sealed class Writer : IDisposable
    {
        private readonly object _gate = new();
        private readonly string _path;
        private readonly long _maxBytes;
        private readonly Dictionary<LogSource, ArrayBufferWriter<byte>> _partial = [];
        private FileStream? _file;

        public Writer(string logDir, long maxBytes = MaxFileBytes)
        {
            Directory.CreateDirectory(logDir);
            _path = Path.Combine(logDir, FileName);
            _maxBytes = maxBytes;
            _file = Open();
        }

        /// <summary>Output bytes of <paramref name="source"/>; complete lines become entries at once.</summary>
        public void Write(LogSource source, uint sessionId, ReadOnlySpan<byte> data)
        {
            lock (_gate)
            {
                if (!_partial.TryGetValue(source, out var held)) _partial[source] = held = new ArrayBufferWriter<byte>();
                while (data.Length > 0)
                {
                    int newline = data.IndexOf((byte)'\n');
                    int take = newline >= 0 ? newline + 1 : data.Length;
                    // A line longer than the cap is cut into cap-sized entries.
                    take = Math.Min(take, MaxLineBytes - held.WrittenCount);
                    held.Write(data[..take]);
                    data = data[take..];
                    if (held.WrittenSpan[^1] == (byte)'\n' || held.WrittenCount >= MaxLineBytes)
                    {
                        Append(source, sessionId, held.WrittenSpan);
                        held.Clear();
                    }
                }
            }
        }

        /// <summary>A lifecycle line of our own (<c>s: "system"</c>).</summary>
        public void WriteSystem(string message)
        {
            lock (_gate) Append(LogSource.System, null, Encoding.UTF8.GetBytes(message.EndsWith('\n') ? message : message + "\n"));
        }

        /// <summary>Writes what is held of unfinished lines (the process ended without a final newline).</summary>
        public void Flush(uint sessionId)
        {
            lock (_gate)
            {
                foreach (var (source, held) in _partial)
                {
                    if (held.WrittenCount == 0) continue;
                    Append(source, sessionId, held.WrittenSpan);
                    held.Clear();
                }
            }
        }

        private void Append(LogSource source, uint? sessionId, ReadOnlySpan<byte> data)
        {
            var buffer = new ArrayBufferWriter<byte>(data.Length + 96);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("t", DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                json.WriteString("s", source switch
                {
                    LogSource.Stdout => "stdout",
                    LogSource.Stderr => "stderr",
                    LogSource.Output => "output",
                    _ => "system",
                });
                // Invalid UTF-8 becomes U+FFFD, as upstream's lossy decode does.
                json.WriteString("d", Encoding.UTF8.GetString(data));
                if (sessionId is { } id) json.WriteNumber("id", id);
                json.WriteEndObject();
            }
            buffer.Write("\n"u8);
            try
            {
                if (_file is null) return;
                if (_file.Length + buffer.WrittenCount > _maxBytes && _file.Length > 0) Rotate();
                _file.Write(buffer.WrittenSpan);
                _file.Flush();
            }
            catch (IOException)
            {
                // A full disk loses log lines, never the service.
            }
        }

        private void Rotate()
        {
            _file?.Dispose();
            _file = null;
            File.Delete($"{_path}.{RotatedFiles}");
            for (int i = RotatedFiles - 1; i >= 1; i--)
            {
                if (File.Exists($"{_path}.{i}")) File.Move($"{_path}.{i}", $"{_path}.{i + 1}");
            }
            File.Move(_path, $"{_path}.1");
            _file = Open();
        }

        private FileStream Open() => new(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);

        public void Dispose()
        {
            lock (_gate)
            {
                _file?.Dispose();
                _file = null;
            }
        }
    }
}
