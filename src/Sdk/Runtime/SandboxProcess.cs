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
        byte[] config;
        try
        {
            config = ReadConfig(args);
        }
        catch (Exception e) when (e is MicrosandboxException or IOException)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }

        // Boot time is the product's headline cost: when the engine handed us the VMM argv, QEMU starts now and the
        // rest of this process's start-up (full config, database, relay) overlaps the guest's boot.
        var early = PrestartedVmm.Peek(config);
        PrestartedVmm? prestarted = null;
        if (early is not null)
        {
            if (!Announce(args, Path.Combine(early.LogDir, "runtime.log"))) return 2;
            prestarted = PrestartedVmm.TryStart(early);
        }

        LaunchConfig launch;
        try
        {
            launch = LaunchConfig.FromJson(config);
        }
        catch (Exception e) when (e is MicrosandboxException or IOException)
        {
            prestarted?.Dispose();
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        if (early is null && !Announce(args, Path.Combine(launch.LogDir, "runtime.log"))) return 2;

        var log = new RuntimeLog(args.Name);
        var host = new QemuSandboxHost(args, launch, log, prestarted);
        return host.Run();
    }

    // Reports {"pid":N} to the launcher, then moves stdout/stderr (and so QEMU's) to runtime.log.
    private static bool Announce(SandboxProcessArgs args, string runtimeLog)
    {
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
            RedirectOutput(runtimeLog);
            return true;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"sandbox process startup failed: {e.Message}");
            return false;
        }
    }

    private static byte[] ReadConfig(SandboxProcessArgs args)
    {
        if (args.ConfigFd is int fd)
        {
            var bytes = FileDescriptor.ReadToEnd(fd);
            Libc.close(fd);
            return bytes;
        }
        if (args.ConfigFile is { } file) return File.ReadAllBytes(file);
        throw new MicrosandboxException("missing --config-fd or --config-file for `sandbox`");
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
