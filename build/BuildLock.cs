namespace Microsandbox.Build;

/// <summary>
/// An exclusive advisory lock on a file, compatible with the <c>flock</c> command: on Unix .NET takes
/// <c>flock(LOCK_EX)</c> for <see cref="FileShare.None"/>. Held in-process so the dotnet child stays our direct
/// child and receives Ctrl+C itself (wrapping it in the <c>flock</c> command would orphan it on cancellation).
/// </summary>
internal sealed class BuildLock : IDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);

    private readonly FileStream stream;

    private BuildLock(FileStream stream) => this.stream = stream;

    /// <summary>Waits for the lock named by <c>MSB_BUILD_LOCK</c>; returns null when that variable is not set.</summary>
    public static async Task<BuildLock?> AcquireFromEnvironmentAsync(CancellationToken cancellationToken)
    {
        var path = Environment.GetEnvironmentVariable("MSB_BUILD_LOCK");
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        var announced = false;
        while (true)
        {
            try
            {
                return new BuildLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException)
            {
                if (!announced)
                {
                    BuildLog.Info($"waiting for the build lock {path}");
                    announced = true;
                }

                await Task.Delay(RetryDelay, cancellationToken);
            }
        }
    }

    public void Dispose() => stream.Dispose();
}
