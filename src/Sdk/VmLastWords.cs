using System.Text;

namespace Microsandbox;

/// <summary>
/// The sandbox's <c>runtime.log</c> and <c>console.log</c>, held open by the client from the moment the sandbox is
/// ready: when the connection to the guest drops mid-operation, the error can say why the VM ended (QEMU killed, a
/// guest kernel panic, the sandbox process gone) even though an ephemeral sandbox's process deletes those files as it
/// exits. Open handles keep the unlinked contents readable; reads are bounded to each file's last 16 KiB.
/// </summary>
internal sealed class VmLastWords : IDisposable
{
    private const int TailBytes = 16 * 1024;
    private readonly FileStream? _runtime;
    private readonly FileStream? _console;

    public VmLastWords(string logDirectory)
    {
        _runtime = TryOpen(Path.Combine(logDirectory, "runtime.log"));
        _console = TryOpen(Path.Combine(logDirectory, "console.log"));
    }

    /// <summary>
    /// The cause of a dropped connection: waits (at most <paramref name="grace"/>) for the sandbox process to end, then
    /// reads what it and the guest wrote last. Null when the sandbox process is still running (then the connection
    /// itself failed, not the VM).
    /// </summary>
    public async Task<string?> ExplainAsync(Func<CancellationToken, Task<int>> processExit, TimeSpan grace)
    {
        using var deadline = new CancellationTokenSource(grace);
        int exitCode;
        try
        {
            exitCode = await processExit(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        var runtime = Tail(_runtime, line => line.Contains("the VM ", StringComparison.Ordinal) || line.Contains("VM exited", StringComparison.Ordinal) || line.Contains("sandbox failed", StringComparison.Ordinal) || line.Contains("the guest kernel panicked", StringComparison.Ordinal), 2);
        var console = Tail(_console, _ => true, 8);
        var panic = Tail(_console, line => line.Contains("Kernel panic", StringComparison.Ordinal), 1);
        var text = new StringBuilder("the VM ended");
        if (runtime.Length > 0) text.Append(": ").Append(runtime);
        else text.Append(exitCode > 128
            ? $": the sandbox process was killed by signal {exitCode - 128} ({Host.Signals.Name(exitCode - 128)}) and took QEMU with it"
            : $": the sandbox process exited with code {exitCode} without saying why");
        if (panic.Length > 0 && !runtime.Contains("panicked", StringComparison.Ordinal)) text.Append("; guest kernel panic: ").Append(panic);
        text.Append("; guest console: ").Append(console.Length > 0 ? console : "(no console output)");
        return text.ToString();
    }

    public void Dispose()
    {
        _runtime?.Dispose();
        _console?.Dispose();
    }

    private static FileStream? TryOpen(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // The last `count` matching lines of the file's last 16 KiB, joined with " | ".
    private static string Tail(FileStream? file, Func<string, bool> keep, int count)
    {
        if (file is null) return "";
        lock (file)
        {
            try
            {
                var lines = Host.LogTail.Lines(file, TailBytes).Where(keep).ToList();
                return string.Join(" | ", lines.Skip(Math.Max(0, lines.Count - count)));
            }
            catch (IOException)
            {
                return "";
            }
        }
    }
}
