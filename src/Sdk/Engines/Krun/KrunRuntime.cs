using Microsandbox.Host;

namespace Microsandbox.Engines.Krun;

/// <summary>
/// The upstream runtime as this process sees it: <see cref="MsbLocator"/> run once (it starts <c>msb --version</c>),
/// then reused by engine selection and <c>doctor</c>.
/// </summary>
public static class KrunRuntime
{
    private static readonly Lazy<MsbLocation> Cached = new(() => MsbLocator.LocateAsync().GetAwaiter().GetResult());

    /// <summary>Where <c>msb</c> and <c>libkrunfw</c> are, or why they are not usable.</summary>
    public static MsbLocation Current => Cached.Value;

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
