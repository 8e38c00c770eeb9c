using System.Text;

namespace Microsandbox.Tests.MSBuild;

/// <summary>
/// Finds processes that belong to one consumer build: every process it starts (MSBuild, the sandbox process, QEMU)
/// inherits the build's unique <c>MSB_HOME</c>, so none may carry it once the build is over.
/// </summary>
internal static class LeftoverProcesses
{
    public static List<(int Pid, string CommandLine)> WithHome(string home)
    {
        var marker = Encoding.UTF8.GetBytes("MSB_HOME=" + home + "\0");
        var found = new List<(int, string)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                var environ = File.ReadAllBytes(Path.Combine(dir, "environ"));
                if (environ.AsSpan().IndexOf(marker) < 0) continue;
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                if (cmdline.Length > 0) found.Add((pid, cmdline)); // empty: a zombie on its way out
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours.
            }
        }
        return found;
    }

    /// <summary>Waits (bounded) for the build's processes to be gone and returns what is left.</summary>
    public static async Task<List<(int Pid, string CommandLine)>> AfterSettlingAsync(string home, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var left = WithHome(home);
        while (left.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, cancellationToken);
            left = WithHome(home);
        }
        return left;
    }
}
