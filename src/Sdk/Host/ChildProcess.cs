using System.Collections;
using System.Runtime.InteropServices;
using System.Text;

namespace Microsandbox.Host;

/// <summary>
/// A child started with <c>posix_spawn</c> so that chosen descriptors land on fixed fd numbers in the child
/// (the sandbox-process contract passes its config, watchdog, startup and lock fds as 96..99), which
/// <see cref="System.Diagnostics.Process"/> cannot do. The caller owns the child: <see cref="WaitForExitAsync"/>
/// reaps it and <see cref="Kill"/> ends it.
/// </summary>
internal sealed class ChildProcess
{
    private readonly object _gate = new();
    private int? _exitStatus;

    private ChildProcess(int pid) => Pid = pid;

    /// <summary>The child's process id.</summary>
    public int Pid { get; }

    /// <summary>The exit code once reaped (128+signal when killed by a signal).</summary>
    public int? ExitCode
    {
        get { lock (_gate) return _exitStatus; }
    }

    /// <summary>Starts <paramref name="argv"/>[0] (an absolute path) with the given descriptor plan.</summary>
    /// <param name="argv">Program path and arguments; never joined into a shell string.</param>
    /// <param name="fdMap">Pairs of (source fd in this process, target fd number in the child).</param>
    /// <param name="stdout">Fd to become the child's stdout, or -1 for /dev/null.</param>
    /// <param name="stderr">Fd to become the child's stderr, or -1 for /dev/null.</param>
    /// <param name="newSession">Detach the child into its own session (no controlling terminal, own process group).</param>
    /// <param name="environment">Variables to set or (with a null value) remove on top of this process's environment.</param>
    public static unsafe ChildProcess Start(
        IReadOnlyList<string> argv,
        IReadOnlyList<(int Source, int Target)> fdMap,
        int stdout,
        int stderr,
        bool newSession,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(argv.Count, nameof(argv));
        if (!Path.IsPathRooted(argv[0]))
            throw new ArgumentException($"program path must be absolute, got '{argv[0]}'", nameof(argv));

        var env = BuildEnvironment(environment);
        var handles = new List<GCHandle>();
        byte* actions = stackalloc byte[Libc.SpawnFileActionsSize];
        byte* attr = stackalloc byte[Libc.SpawnAttrSize];
        byte* sigmask = stackalloc byte[Libc.SigSetSize];
        byte* sigdef = stackalloc byte[Libc.SigSetSize];
        var temporaries = new List<int>();
        try
        {
            Libc.posix_spawn_file_actions_init(actions);
            Libc.posix_spawnattr_init(attr);
            Libc.sigemptyset(sigmask);
            // .NET ignores SIGPIPE; a child must start with default dispositions.
            Libc.sigfillset(sigdef);
            short flags = Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSIGDEF;
            if (newSession) flags |= Libc.POSIX_SPAWN_SETSID;
            Libc.posix_spawnattr_setflags(attr, flags);
            Libc.posix_spawnattr_setsigmask(attr, sigmask);
            Libc.posix_spawnattr_setsigdefault(attr, sigdef);

            Libc.posix_spawn_file_actions_addopen(actions, 0, "/dev/null", Libc.O_RDONLY, 0);
            AddStdio(actions, 1, stdout);
            AddStdio(actions, 2, stderr);

            // A source that already sits on some target number would be clobbered by an earlier dup2:
            // move such sources out of the way first.
            var targets = fdMap.Select(m => m.Target).ToHashSet();
            foreach (var (source, target) in fdMap)
            {
                int src = source;
                if (SourceNeedsSpare(src, target, targets))
                {
                    src = Libc.Check(Libc.fcntl(source, Libc.F_DUPFD_CLOEXEC, 200), "fcntl(F_DUPFD_CLOEXEC)");
                    temporaries.Add(src);
                }
                Libc.posix_spawn_file_actions_adddup2(actions, src, target);
            }

            byte** argvPtr = Pin(argv, handles);
            byte** envPtr = Pin(env, handles);
            int pid;
            int rc = Libc.posix_spawn(&pid, argvPtr[0], actions, attr, argvPtr, envPtr);
            if (rc != 0)
                throw new IOException($"cannot start '{argv[0]}': {Marshal.GetPInvokeErrorMessage(rc)} (errno {rc})");
            return new ChildProcess(pid);
        }
        finally
        {
            foreach (var fd in temporaries) Libc.close(fd);
            Libc.posix_spawn_file_actions_destroy(actions);
            Libc.posix_spawnattr_destroy(attr);
            foreach (var h in handles) h.Free();
        }
    }

    /// <summary>
    /// True when a source descriptor must first be duplicated out of the way: it sits on another mapping's target
    /// number (an earlier dup2 would clobber it) or on a stdio number (replaced by the stdio plan).
    /// </summary>
    internal static bool SourceNeedsSpare(int source, int target, IReadOnlySet<int> targets) =>
        targets.Contains(source) && source != target || source <= 2;

    private static unsafe void AddStdio(byte* actions, int target, int source)
    {
        if (source < 0)
            Libc.posix_spawn_file_actions_addopen(actions, target, "/dev/null", Libc.O_WRONLY, 0);
        else if (source != target)
            Libc.posix_spawn_file_actions_adddup2(actions, source, target);
    }

    private static List<string> BuildEnvironment(IReadOnlyDictionary<string, string?>? overrides)
    {
        var vars = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            vars[(string)e.Key] = (string?)e.Value ?? "";
        if (overrides is not null)
        {
            foreach (var (k, v) in overrides)
            {
                if (v is null) vars.Remove(k);
                else vars[k] = v;
            }
        }
        return vars.Select(kv => kv.Key + "=" + kv.Value).ToList();
    }

    private static unsafe byte** Pin(IReadOnlyList<string> strings, List<GCHandle> handles)
    {
        var pointers = new nint[strings.Count + 1];
        for (int i = 0; i < strings.Count; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(strings[i] + "\0");
            var h = GCHandle.Alloc(bytes, GCHandleType.Pinned);
            handles.Add(h);
            pointers[i] = h.AddrOfPinnedObject();
        }
        var ph = GCHandle.Alloc(pointers, GCHandleType.Pinned);
        handles.Add(ph);
        return (byte**)ph.AddrOfPinnedObject();
    }

    /// <summary>Reaps the child without blocking; true once it has exited.</summary>
    public unsafe bool TryReap()
    {
        lock (_gate)
        {
            if (_exitStatus is not null) return true;
            int status;
            int rc = Libc.waitpid(Pid, &status, Libc.WNOHANG);
            if (rc == Pid)
            {
                _exitStatus = Decode(status);
                return true;
            }
            if (rc == -1 && Marshal.GetLastPInvokeError() == Libc.ECHILD)
            {
                // Someone else reaped it (or it was never ours to reap): it is gone.
                _exitStatus = -1;
                return true;
            }
            return false;
        }
    }

    private static int Decode(int status)
    {
        int termsig = status & 0x7f;
        return termsig == 0 ? (status >> 8) & 0xff : 128 + termsig;
    }

    /// <summary>Waits for the child to exit and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        // Polling with a short, growing delay: SIGCHLD belongs to the .NET runtime, so there is no signal to wait on.
        int delay = 2;
        while (!TryReap())
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 50);
        }
        return _exitStatus!.Value;
    }

    /// <summary>Sends a signal unless the child has already been reaped.</summary>
    public void Signal(int signal)
    {
        lock (_gate)
        {
            if (_exitStatus is null) Libc.kill(Pid, signal);
        }
    }

    /// <summary>Kills the child (SIGKILL).</summary>
    public void Kill() => Signal(Libc.SIGKILL);
}
