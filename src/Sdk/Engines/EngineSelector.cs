using Microsandbox.Engines.Krun;
using Microsandbox.Engines.Qemu;
using Microsandbox.Runtime;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Engines;

/// <summary>
/// Picks the engine: libkrun when <c>msb</c> is installed and hardware virtualisation really works, QEMU otherwise,
/// and says which and why (logged once per process and kept in <see cref="EngineChoice.Reason"/>).
/// </summary>
public static class EngineSelector
{
    private static readonly object Gate = new();
    private static readonly HashSet<string> Logged = [];

    /// <summary>Chooses an engine for <paramref name="options"/>; throws <see cref="EngineUnavailableException"/> with the fix when none can run.</summary>
    /// <remarks>Blocks while the runtime lookup and the KVM probe run (once per process); async code uses <see cref="SelectAsync"/>.</remarks>
    public static EngineChoice Select(SandboxOptions options, ILogger logger) =>
        SelectAsync(options, logger, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>
    /// Chooses an engine for <paramref name="options"/>, probing KVM with the QEMU binary and assets those options
    /// name; throws <see cref="EngineUnavailableException"/> with the fix when none can run.
    /// </summary>
    public static async Task<EngineChoice> SelectAsync(SandboxOptions options, ILogger logger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var kvm = await KvmProbe.ForAsync(options, cancellationToken).ConfigureAwait(false);
        var choice = options.Engine switch
        {
            EngineKind.Qemu => new EngineChoice(CreateQemu(options, kvm, logger), "QEMU requested explicitly"),
            EngineKind.Krun => SelectKrun(await KrunRuntime.LocateAsync(cancellationToken).ConfigureAwait(false), kvm),
            _ => SelectAuto(options, await KrunRuntime.LocateAsync(cancellationToken).ConfigureAwait(false), kvm, logger),
        };
        lock (Gate)
        {
            if (Logged.Add(choice.Engine.Name + "|" + choice.Reason))
                logger.LogInformation("engine: {Engine} ({Reason})", choice.Engine.Name, choice.Reason);
        }
        return choice;
    }

    private static EngineChoice SelectKrun(Host.MsbLocation runtime, KvmStatus kvm)
    {
        if (KrunRuntime.Unavailable(runtime, kvm) is { } why)
            throw new EngineUnavailableException("krun", why + "; use EngineKind.Qemu or EngineKind.Auto (run `microsandbox doctor` for details)");
        return new EngineChoice(new KrunEngine(runtime), $"libkrun requested explicitly (msb {runtime.Version} at {runtime.MsbPath})");
    }

    private static EngineChoice SelectAuto(SandboxOptions options, Host.MsbLocation runtime, KvmStatus kvm, ILogger logger)
    {
        if (KrunRuntime.Unavailable(runtime, kvm) is not { } krunProblem)
            return new EngineChoice(new KrunEngine(runtime), $"msb {runtime.Version} is installed and KVM works ({kvm.Reason}), so libkrun");
        var why = kvm.Usable
            ? $"KVM works but libkrun cannot run ({krunProblem}), so QEMU with KVM"
            : $"no usable hardware virtualisation ({kvm.Reason}), so QEMU with software emulation";
        return new EngineChoice(CreateQemu(options, kvm, logger), why);
    }

    private static QemuEngine CreateQemu(SandboxOptions options, KvmStatus kvm, ILogger logger)
    {
        var assets = QemuAssets.Locate(options.QemuAssetsDirectory, options.QemuBinary, logger, CancellationToken.None);
        return new QemuEngine(assets, kvm, SandboxProcessLocator.Locate());
    }
}

/// <summary>The engine that will run a sandbox and the reason it was chosen.</summary>
/// <param name="Engine">The engine.</param>
/// <param name="Reason">Why this engine, in words a user can act on.</param>
public sealed record EngineChoice(ISandboxEngine Engine, string Reason);
