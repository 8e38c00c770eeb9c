using Microsandbox.Host;

namespace Microsandbox.Engines.Krun;

/// <summary>
/// The upstream runtime as this process sees it: <see cref="MsbLocator"/> run once (it starts <c>msb --version</c>),
/// then reused by engine selection and <c>doctor</c>.
/// </summary>
public static class KrunRuntime
{
    // One lookup per process, shared by every caller; awaited, never waited on, by the SDK's async paths.
    private static readonly Lazy<Task<MsbLocation>> Cached = new(() => MsbLocator.LocateAsync());

    /// <summary>Where <c>msb</c> and <c>libkrunfw</c> are, or why they are not usable (looked up once per process).</summary>
    /// <param name="cancellationToken">Stops waiting (the lookup itself goes on for the next caller).</param>
    public static Task<MsbLocation> LocateAsync(CancellationToken cancellationToken = default) => Cached.Value.WaitAsync(cancellationToken);

    /// <summary>The same for synchronous callers: blocks until the lookup (at most one <c>msb --version</c>) is done.</summary>
    public static MsbLocation Current => Cached.Value.GetAwaiter().GetResult();

    /// <summary>Why the krun engine cannot run here given <paramref name="runtime"/> and <paramref name="kvm"/>, or null when it can.</summary>
    public static string? Unavailable(MsbLocation runtime, KvmStatus kvm)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(kvm);
        if (!runtime.IsUsable) return runtime.Reason ?? "msb or libkrunfw was not found";
        if (!kvm.Usable) return $"libkrun needs working KVM: {kvm.Reason}";
        return null;
    }
}
