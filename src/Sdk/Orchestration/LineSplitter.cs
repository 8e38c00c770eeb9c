using System.Text;

namespace Microsandbox.Orchestration;

/// <summary>
/// Turns one stream's byte chunks into lines: UTF-8 sequences split across chunks are joined, <c>\n</c> and <c>\r\n</c>
/// end a line, and the text after the last terminator is held until more arrives or <see cref="Flush"/>.
/// Also keeps everything it saw, for the command's buffered result.
/// </summary>
internal sealed class LineSplitter(OutputStream stream, IOutputSink sink)
{
    private readonly Decoder _decoder = new UTF8Encoding(false).GetDecoder();
    private readonly StringBuilder _pending = new();
    private readonly StringBuilder _all = new();

    /// <summary>Everything decoded so far.</summary>
    public string Text => _all.ToString();

    public void Write(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[_decoder.GetCharCount(bytes, flush: false)];
        int count = _decoder.GetChars(bytes, chars, flush: false);
        Append(chars.AsSpan(0, count));
    }

    /// <summary>Emits a final unterminated line, if any.</summary>
    public void Flush()
    {
        var chars = new char[_decoder.GetCharCount([], flush: true)];
        int count = _decoder.GetChars([], chars, flush: true);
        Append(chars.AsSpan(0, count));
        if (_pending.Length > 0) Emit();
    }

    private void Append(ReadOnlySpan<char> chars)
    {
        _all.Append(chars);
        foreach (var c in chars)
        {
            if (c == '\n') Emit();
            else _pending.Append(c);
        }
    }

    private void Emit()
    {
        if (_pending.Length > 0 && _pending[^1] == '\r') _pending.Length--;
        var line = _pending.ToString();
        _pending.Clear();
        sink.OnLine(new OutputLine(stream, line));
    }
}
