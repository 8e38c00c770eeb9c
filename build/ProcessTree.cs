using System.Runtime.InteropServices;

namespace Microsandbox.Build;

/// <summary>
/// Passes Ctrl+C on to a child's descendants. A terminal sends SIGINT to the whole foreground group, but a SIGINT or
/// SIGTERM aimed at the build alone would otherwise reach only the direct child, and grandchildren (test hosts, VMs)
/// could outlive it.
/// </summary>
internal static partial class ProcessTree
{
    private const int SigInt = 2;

    public static void InterruptDescendants(int rootProcessId)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        foreach (var descendant in Descendants(rootProcessId))
        {
            _ = Kill(descendant, SigInt); // it may have gone already; nothing to do then
        }
    }

    private static List<int> Descendants(int rootProcessId)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var processId))
            {
                continue;
            }

            try
            {
                // /proc/PID/stat: "PID (comm) STATE PPID ..."; comm may contain spaces and parentheses.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var parentId = int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
                if (!children.TryGetValue(parentId, out var list))
                {
                    children[parentId] = list = [];
                }

                list.Add(processId);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentException)
            {
                // The process ended while we looked.
            }
        }

        var result = new List<int>();
        var pending = new Queue<int>([rootProcessId]);
        while (pending.TryDequeue(out var parent))
        {
            foreach (var child in children.GetValueOrDefault(parent) ?? [])
            {
                result.Add(child);
                pending.Enqueue(child);
            }
        }

        return result;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int processId, int signal);
}
