using System.Text;
using Microsandbox.Runtime;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Services;

/// <summary>
/// <c>exec.log</c>: upstream's JSON-lines format, one entry per output line, bounded by rotation, read back and
/// followed across a rotation.
/// </summary>
public sealed class ExecLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("msblog-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Entries_are_upstreams_json_lines_one_per_output_line()
    {
        using (var log = new ExecLog.Writer(_dir))
        {
            log.WriteSystem("starting");
            log.Write(LogSource.Stdout, 7, "hel"u8);
            log.Write(LogSource.Stderr, 7, "err\n"u8);
            log.Write(LogSource.Stdout, 7, "lo\nsecond\nthird"u8);
            log.Flush(7);
        }
        var lines = File.ReadAllLines(Path.Combine(_dir, "exec.log"));
        Assert.Equal(5, lines.Length);
        Assert.Matches("""^\{"t":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","s":"system","d":"starting\\n"\}$""", lines[0]);
        Assert.Matches("""^\{"t":"[^"]+","s":"stderr","d":"err\\n","id":7\}$""", lines[1]);
        var entries = ExecLog.ReadAll(_dir);
        Assert.Equal([(LogSource.System, "starting"), (LogSource.Stderr, "err"), (LogSource.Stdout, "hello"), (LogSource.Stdout, "second"), (LogSource.Stdout, "third")],
            entries.Select(e => (e.Source, e.Text)));
    }

    [Fact]
    public void A_line_longer_than_the_cap_is_cut_and_invalid_utf8_is_replaced()
    {
        using (var log = new ExecLog.Writer(_dir))
        {
            log.Write(LogSource.Stdout, 1, Encoding.ASCII.GetBytes(new string('x', ExecLog.MaxLineBytes + 10) + "\n"));
            log.Write(LogSource.Stdout, 1, [0xff, 0x41, (byte)'\n']);
        }
        var entries = ExecLog.ReadAll(_dir);
        Assert.Equal([ExecLog.MaxLineBytes, 10, 2], entries.Select(e => e.Text.Length));
        Assert.Equal("\uFFFDA", entries[2].Text);
    }

    [Fact]
    public void The_log_rotates_and_keeps_three_old_files_at_most()
    {
        using (var log = new ExecLog.Writer(_dir, maxBytes: 1000))
        {
            for (int i = 0; i < 200; i++) log.Write(LogSource.Stdout, 1, Encoding.ASCII.GetBytes($"line {i:000}\n"));
        }
        var files = ExecLog.Files(_dir).Select(Path.GetFileName).ToList();
        Assert.Equal(["exec.log.3", "exec.log.2", "exec.log.1", "exec.log"], files);
        Assert.All(ExecLog.Files(_dir), f => Assert.InRange(new FileInfo(f).Length, 1, 1000));
        var texts = ExecLog.ReadAll(_dir).Select(e => e.Text).ToList();
        // The oldest lines went with the fourth file; what is kept is the newest, in order.
        Assert.Equal("line 199", texts[^1]);
        Assert.True(texts.Count < 200);
        Assert.Equal(Enumerable.Range(200 - texts.Count, texts.Count).Select(i => $"line {i:000}"), texts);
    }

    [Fact]
    public void Lines_that_are_not_entries_are_skipped()
    {
        File.WriteAllLines(Path.Combine(_dir, "exec.log"),
            ["not json", """{"t":"2026-01-01T00:00:00.000Z","s":"stdout","d":"ok\n","id":1}""", """{"t":"x","s":"stdout","d":"bad time"}""",
             """{"t":"2026-01-01T00:00:00.000Z","s":"weird","d":"bad source"}""", """[1,2]""", """{"t":"2026-01-01T00:00:00.000Z","s":"stdout","d":"torn"""]);
        var entry = Assert.Single(ExecLog.ReadAll(_dir));
        Assert.Equal(new LogEntry(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), LogSource.Stdout, "ok"), entry);
    }

    [Fact]
    public async Task Follow_reads_what_is_there_then_new_lines_across_a_rotation_until_the_writer_ends()
    {
        var ct = TestContext.Current.CancellationToken;
        var log = new ExecLog.Writer(_dir, maxBytes: 400);
        log.Write(LogSource.Stdout, 1, "before\n"u8);
        bool ended = false;
        var seen = new List<string>();
        var follow = Task.Run(async () =>
        {
            await foreach (var e in ExecLog.FollowAsync(_dir, () => Volatile.Read(ref ended), ct)) seen.Add(e.Text);
        }, ct);
        for (int i = 0; i < 12; i++)
        {
            log.Write(LogSource.Stdout, 1, Encoding.ASCII.GetBytes($"live {i}\n"));
            await Task.Delay(30, ct);
        }
        log.Dispose();
        Assert.NotEmpty(Directory.GetFiles(_dir, "exec.log.*"));
        Volatile.Write(ref ended, true);
        await follow.WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.Equal(["before", .. Enumerable.Range(0, 12).Select(i => $"live {i}")], seen);
    }

    [Fact]
    public void Options_filter_by_time_source_and_tail()
    {
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        LogEntry[] entries = [new(t0, LogSource.System, "s"), new(t0.AddSeconds(1), LogSource.Stdout, "a"), new(t0.AddSeconds(2), LogSource.Stderr, "b"), new(t0.AddSeconds(3), LogSource.Stdout, "c")];
        Assert.Equal(["a", "b", "c"], new LogOptions().Apply(entries).Select(e => e.Text));
        Assert.Equal(["b"], new LogOptions { Since = t0.AddSeconds(2), Until = t0.AddSeconds(3) }.Apply(entries).Select(e => e.Text));
        Assert.Equal(["b", "c"], new LogOptions { Tail = 2 }.Apply(entries).Select(e => e.Text));
        Assert.Equal(["s"], new LogOptions { Sources = [LogSource.System] }.Apply(entries).Select(e => e.Text));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LogOptions { Tail = -1 }.Apply(entries));
        Assert.StartsWith("LogOptions.Tail: must be zero or more", e.Message, StringComparison.Ordinal);
    }
}
