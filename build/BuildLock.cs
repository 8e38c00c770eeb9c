using System.Runtime.InteropServices;

namespace Microsandbox.Build;

/// <summary>
/// An exclusive <c>flock(2)</c> on a file, the same lock the <c>flock</c> command takes. Held in-process so the dotnet
/// child stays our direct child and receives Ctrl+C itself (wrapping it in the <c>flock</c> command would orphan it on
/// cancellation). The wait blocks in the kernel rather than polling, so it queues fairly with other flock waiters.
/// </summary>
internal sealed partial class BuildLock : IDisposable
{
    private const int OpenReadWrite = 0x2;
    private const int OpenCreate = 0x40;
    private const int OpenCloseOnExec = 0x80000;
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;

    private readonly int descriptor;

    private BuildLock(int descriptor) => this.descriptor = descriptor;

    /// <summary>Waits for the lock named by <c>MSB_BUILD_LOCK</c>; returns null when that variable is not set.</summary>
    public static async Task<BuildLock?> AcquireFromEnvironmentAsync(CancellationToken cancellationToken)
    {
        var path = Environment.GetEnvironmentVariable("MSB_BUILD_LOCK");
        if (string.IsNullOrWhiteSpace(path) || !OperatingSystem.IsLinux())
        {
            return null;
        }

        var descriptor = Open(path, OpenReadWrite | OpenCreate | OpenCloseOnExec, Convert.ToInt32("666", 8));
        if (descriptor < 0)
        {
            throw new BuildFailedException($"cannot open the build lock {path} (errno {Marshal.GetLastPInvokeError()})");
        }

        if (Flock(descriptor, LockExclusive | LockNonBlocking) != 0)
        {
            BuildLog.Info($"waiting for the build lock {path}");

            // A blocking flock cannot be interrupted; on cancellation the waiting thread is abandoned (the build is
            // exiting) and closes its descriptor if it ever gets the lock.
            var wait = Task.Run(() => Flock(descriptor, LockExclusive));
            try
            {
                await wait.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                _ = wait.ContinueWith(_ => Close(descriptor), TaskScheduler.Default);
                throw;
            }
        }

        return new BuildLock(descriptor);
    }

    public void Dispose() => Close(descriptor);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int descriptor, int operation);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int descriptor);
}
