namespace Microsandbox.Tests.State;

/// <summary>A throwaway state directory (what MSB_HOME points at) removed after the test.</summary>
internal sealed class TempHome : IDisposable
{
    public TempHome()
    {
        // Short path under /tmp: msb puts unix sockets below it.
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "msbst-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string DatabasePath => System.IO.Path.Combine(Path, "db", "msb.db");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail the test.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
