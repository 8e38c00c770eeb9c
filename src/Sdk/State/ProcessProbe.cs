namespace Microsandbox.State;

/// <summary>
/// Whether a pid names a live process, judged as msb judges it: <c>kill(pid, 0)</c> succeeds or fails with
/// EPERM, and the process is not a zombie (a zombie sandbox process has exited; only its parent can reap it).
/// </summary>
internal static class ProcessProbe
{
    public static bool IsAlive(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }

        if (OperatingSystem.IsWindows())
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                return !process.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }

        if (Host.Libc.kill(pid, 0) != 0 &&
            System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Host.Libc.EPERM)
        {
            return false;
        }

        return !IsZombie(pid);
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            // /proc/<pid>/stat is "pid (comm) S ...": the state letter follows the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close >= 0 && close + 2 < stat.Length && stat[close + 2] == 'Z';
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
