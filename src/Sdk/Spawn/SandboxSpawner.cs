using System.Text;
using System.Text.Json;
using Microsandbox.Host;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Spawn;

/// <summary>
/// Starts a sandbox process under the upstream contract: argv from <see cref="SandboxLaunchRequest.BuildArgv"/>,
/// the launch config on fd 96, the watchdog pipe on fd 97 (attached) or the startup pipe on fd 98 (detached,
/// new session), the lifecycle lock on fd 99, then waits up to 30 s for <c>{"pid":N}</c>.
/// </summary>
public static class SandboxSpawner
{
    /// <summary>Spawns the process and returns once it has reported startup. Nothing is left running on failure.</summary>
    public static async Task<SpawnedSandbox> SpawnAsync(SandboxLaunchRequest request, ILogger logger, CancellationToken cancellationToken = default)
    {
        var agentSock = request.Launch.AgentSock;
        if (!MicrosandboxHome.SocketPathFits(agentSock))
            throw new MicrosandboxException(
                $"Unix socket path is too long: {Encoding.UTF8.GetByteCount(agentSock)} bytes at {agentSock}; paths must be shorter than {MicrosandboxHome.MaxUnixSocketPathBytes + 1} bytes (use a shorter MSB_HOME)");

        Directory.CreateDirectory(request.Launch.LogDir);
        Directory.CreateDirectory(request.Launch.RuntimeDir);

        using var lifecycle = await LifecycleLock.AcquireAsync(request.Home, request.Name, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);

        int configFd = -1, watchRead = -1, watchWrite = -1, startupRead = -1, startupWrite = -1, errRead = -1, errWrite = -1;
        ChildProcess? child = null;
        try
        {
            configFd = FileDescriptor.CreateMemoryFile("msb-launch-config", Encoding.UTF8.GetBytes(request.Launch.ToJson()));
            (errRead, errWrite) = FileDescriptor.CreatePipe();
            var fdMap = new List<(int, int)>
            {
                (configFd, SandboxProcessContract.ConfigFd),
                (lifecycle.Descriptor, SandboxProcessContract.LifecycleLockFd),
            };
            if (request.DiskLocks is { } diskLocks)
            {
                for (int i = 0; i < diskLocks.Descriptors.Count; i++)
                    fdMap.Add((diskLocks.Descriptors[i], SandboxProcessContract.FirstDiskLockFd + i));
            }
            int stdout;
            if (request.Mode == SpawnMode.Attached)
            {
                (watchRead, watchWrite) = FileDescriptor.CreatePipe();
                (startupRead, startupWrite) = FileDescriptor.CreatePipe();
                fdMap.Add((watchRead, SandboxProcessContract.ParentWatchFd));
                stdout = startupWrite; // attached: startup JSON arrives on stdout
            }
            else
            {
                (startupRead, startupWrite) = FileDescriptor.CreatePipe();
                fdMap.Add((startupWrite, SandboxProcessContract.StartupFd));
                stdout = -1;
            }

            var argv = request.BuildArgv();
            logger.LogDebug("spawning sandbox process: {Argv}", string.Join(' ', argv));
            child = ChildProcess.Start(argv, fdMap, stdout, errWrite, newSession: request.Mode == SpawnMode.Detached, request.Environment);

            // Our copies of the child's ends must go, or end-of-file never arrives.
            FileDescriptor.Close(ref configFd);
            FileDescriptor.Close(ref watchRead);
            FileDescriptor.Close(ref startupWrite);
            FileDescriptor.Close(ref errWrite);

            // Each reader owns its descriptor and closes it at end of file, so no fd is closed under a blocked read.
            int errFd = errRead, startupFd = startupRead;
            errRead = startupRead = -1;
            var stderrTask = Task.Run(() => { try { return FileDescriptor.ReadToEnd(errFd); } finally { Libc.close(errFd); } }, CancellationToken.None);
            var lineTask = Task.Run(() => { try { return ReadLine(startupFd); } finally { Libc.close(startupFd); } }, CancellationToken.None);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(SandboxProcessContract.StartupTimeout);
            string? line;
            try
            {
                line = await lineTask.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                child.Kill();
                await child.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                throw new MicrosandboxException($"sandbox startup timeout: no JSON received within {SandboxProcessContract.StartupTimeout.TotalSeconds:0} seconds from {argv[0]}");
            }

            int reported = ParsePid(line);
            if (reported != child.Pid)
            {
                child.Kill();
                await child.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                var stderr = await ReadStderrAsync(stderrTask).ConfigureAwait(false);
                throw new MicrosandboxException(reported < 0
                    ? $"sandbox process exited (code {child.ExitCode}) before sending startup info: {Describe(line, stderr)}"
                    : $"sandbox startup PID mismatch: spawned pid {child.Pid}, startup pid {reported}");
            }

            logger.LogDebug("sandbox process {Name} started with pid {Pid}", request.Name, child.Pid);
            var spawned = new SpawnedSandbox(child, watchWrite, agentSock);
            watchWrite = -1;
            if (request.Mode == SpawnMode.Detached) _ = spawned.WaitForExitAsync(CancellationToken.None); // reap when it ends
            return spawned;
        }
        catch
        {
            if (child is not null && !child.TryReap())
            {
                child.Kill();
                await child.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            throw;
        }
        finally
        {
            FileDescriptor.Close(ref configFd);
            FileDescriptor.Close(ref watchRead);
            FileDescriptor.Close(ref watchWrite);
            FileDescriptor.Close(ref startupRead);
            FileDescriptor.Close(ref startupWrite);
            FileDescriptor.Close(ref errRead);
            FileDescriptor.Close(ref errWrite);
        }
    }

    private static async Task<string> ReadStderrAsync(Task<byte[]> stderrTask)
    {
        var done = await Task.WhenAny(stderrTask, Task.Delay(2000)).ConfigureAwait(false);
        return done == stderrTask ? Encoding.UTF8.GetString(stderrTask.Result).Trim() : "";
    }

    private static string Describe(string? line, string stderr)
    {
        var parts = new List<string>();
        if (!string.IsNullOrWhiteSpace(line)) parts.Add($"stdout: {line.Trim()}");
        if (!string.IsNullOrWhiteSpace(stderr)) parts.Add($"stderr: {stderr}");
        return parts.Count == 0 ? "no output" : string.Join("; ", parts);
    }

    /// <summary>The pid in a startup line <c>{"pid":N}</c>, or -1 when the line is missing or malformed.</summary>
    internal static int ParsePid(string? line)
    {
        if (string.IsNullOrWhiteSpace(line)) return -1;
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.TryGetProperty("pid", out var pid) && pid.TryGetInt32(out var value) ? value : -1;
        }
        catch (JsonException)
        {
            return -1;
        }
    }

    private static unsafe string? ReadLine(int fd)
    {
        var bytes = new List<byte>();
        byte b;
        while (true)
        {
            nint n = Libc.read(fd, &b, 1);
            if (n < 0)
            {
                if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Libc.EINTR) continue;
                return null;
            }
            if (n == 0) return bytes.Count == 0 ? null : Encoding.UTF8.GetString(bytes.ToArray());
            if (b == (byte)'\n') return Encoding.UTF8.GetString(bytes.ToArray());
            bytes.Add(b);
        }
    }
}
