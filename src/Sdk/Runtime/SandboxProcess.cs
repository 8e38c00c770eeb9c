using System.Text;
using Microsandbox.Host;
using Microsandbox.Spawn;

namespace Microsandbox.Runtime;

/// <summary>
/// Entry point of our sandbox process (<c>microsandbox sandbox …</c>), the QEMU counterpart of <c>msb sandbox</c>:
/// reads the launch config from its fd, reports <c>{"pid":N}</c>, moves its output to <c>runtime.log</c>, then hosts the
/// VM until it ends (see <see cref="QemuSandboxHost"/>).
/// </summary>
public static class SandboxProcess
{
    /// <summary>Parses the arguments after <c>sandbox</c> and runs; exit code 2 with one line on stderr for bad arguments.</summary>
    public static int Run(IReadOnlyList<string> args)
    {
        SandboxProcessArgs parsed;
        try
        {
            parsed = SandboxProcessArgs.Parse(args);
        }
        catch (MicrosandboxException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        return Run(parsed);
    }

    /// <summary>Runs the sandbox process; returns the process exit code (2 for a bad launch).</summary>
    public static int Run(SandboxProcessArgs args)
    {
        LaunchConfig launch;
        try
        {
            launch = Load(args);
        }
        catch (Exception e) when (e is MicrosandboxException or IOException)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }

        var startup = Encoding.UTF8.GetBytes($"{{\"pid\":{Environment.ProcessId}}}\n");
        try
        {
            if (args.StartupFd is int startupFd)
            {
                FileDescriptor.WriteAll(startupFd, startup);
                Libc.close(startupFd);
            }
            else
            {
                FileDescriptor.WriteAll(1, startup);
            }
            RedirectOutput(Path.Combine(launch.LogDir, "runtime.log"));
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"sandbox process startup failed: {e.Message}");
            return 2;
        }

        var log = new RuntimeLog(args.Name);
        // The VMM is started from this (main) thread: its parent-death signal is bound to the spawning thread,
        // and the main thread lives exactly as long as this process.
        var host = new QemuSandboxHost(args, launch, log);
        return host.Run();
    }

    private static LaunchConfig Load(SandboxProcessArgs args)
    {
        byte[] bytes;
        if (args.ConfigFd is int fd)
        {
            bytes = FileDescriptor.ReadToEnd(fd);
            Libc.close(fd);
        }
        else if (args.ConfigFile is { } file)
        {
            bytes = File.ReadAllBytes(file);
        }
        else
        {
            throw new MicrosandboxException("missing --config-fd or --config-file for `sandbox`");
        }
        return LaunchConfig.FromJson(bytes);
    }

    private static void RedirectOutput(string runtimeLog)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(runtimeLog)!);
        int fd = Libc.Check(Libc.open(runtimeLog, Libc.O_WRONLY | Libc.O_CREAT | 0x400 /* O_APPEND */ | Libc.O_CLOEXEC, 0x1a4), $"open {runtimeLog}");
        Libc.Check(Libc.dup2(fd, 1), "dup2 stdout");
        Libc.Check(Libc.dup2(fd, 2), "dup2 stderr");
        Libc.close(fd);
        // .NET's Console holds duplicates of the original descriptors (the launcher's pipes); point it at the log.
        Console.SetOut(new StreamWriter(new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, 1)) { AutoFlush = true });
        Console.SetError(new StreamWriter(new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(2, ownsHandle: false), FileAccess.Write, 1)) { AutoFlush = true });
    }
}
