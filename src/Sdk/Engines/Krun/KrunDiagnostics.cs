namespace Microsandbox.Engines.Krun;

/// <summary>
/// Turns what a failed <c>msb sandbox</c> left in <c>sandboxes/NAME/logs/runtime.log</c> into an error a user can act
/// on. The typical cases on CI hosts: <c>/dev/kvm</c> exists, msb gets as far as "entering VM", and the first guest
/// instruction fails with <c>KVM_EXIT_INTERNAL_ERROR</c> because the CPU has no VT-x/AMD-V; or there is no
/// <c>/dev/kvm</c> and libkrun panics creating its KVM object right after "entering VM".
/// </summary>
public static class KrunDiagnostics
{
    /// <summary>The line msb logs just before handing the vCPUs to libkrun.</summary>
    public const string EnteringVmMarker = "entering VM";

    /// <summary>The KVM exit libkrun reports when the host cannot execute the guest.</summary>
    public const string KvmInternalErrorMarker = "KVM_EXIT_INTERNAL_ERROR";

    /// <summary>libkrun's panic when it cannot open <c>/dev/kvm</c> at all (hosts without the device).</summary>
    public const string KvmOpenFailedMarker = "Error creating the Kvm object";

    /// <summary>The runtime log of a sandbox.</summary>
    public static string RuntimeLogPath(string logDirectory) => Path.Combine(logDirectory, "runtime.log");

    /// <summary>True when the runtime log shows msb got as far as entering the VM (argv and launch config were accepted).</summary>
    public static bool ReachedVm(string logDirectory) => ReadLog(logDirectory).Contains(EnteringVmMarker, StringComparison.Ordinal);

    /// <summary>Explains why msb ended; names missing CPU virtualisation when that is the cause.</summary>
    /// <param name="logDirectory"><c>sandboxes/NAME/logs</c>.</param>
    /// <param name="exitCode">msb's exit code, when known.</param>
    /// <param name="kvm">What the host's KVM probe found.</param>
    public static string Explain(string logDirectory, int? exitCode, KvmStatus kvm)
    {
        ArgumentNullException.ThrowIfNull(kvm);
        var log = ReadLog(logDirectory);
        var code = exitCode is { } c ? $" (exit code {c})" : "";
        if (log.Contains(KvmInternalErrorMarker, StringComparison.Ordinal))
        {
            return $"msb accepted the launch and entered the VM, but KVM could not run the guest ({KvmInternalErrorMarker}){code}: " +
                   $"this host has no usable CPU virtualisation (VT-x/AMD-V) — {kvm.Reason}. " +
                   "libkrun needs hardware virtualisation; use the QEMU engine here (EngineKind.Qemu or EngineKind.Auto).";
        }
        if (log.Contains(KvmOpenFailedMarker, StringComparison.Ordinal))
        {
            return $"msb accepted the launch and entered the VM, but libkrun could not open KVM ({KvmOpenFailedMarker}){code}: " +
                   $"{kvm.Reason}. libkrun needs hardware virtualisation; use the QEMU engine here (EngineKind.Qemu or EngineKind.Auto).";
        }
        bool entered = log.Contains(EnteringVmMarker, StringComparison.Ordinal);
        if (entered && !kvm.Usable && exitCode is not 0)
        {
            // Without VT-x/AMD-V the guest sometimes runs a few instructions before KVM gives up without an internal
            // error in the log: the cause is the same.
            return $"msb entered the VM and then stopped{code} on a host without usable CPU virtualisation (VT-x/AMD-V) — {kvm.Reason}. " +
                   $"libkrun needs hardware virtualisation; use the QEMU engine here (EngineKind.Qemu or EngineKind.Auto); runtime.log: {Tail(log, 8)}";
        }
        var reached = entered ? "msb entered the VM and then stopped" : "msb stopped before entering the VM";
        return $"{reached}{code}; runtime.log: {Tail(log, 8)}";
    }

    private static string ReadLog(string logDirectory)
    {
        var path = RuntimeLogPath(logDirectory);
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static string Tail(string text, int lines)
    {
        if (text.Length == 0) return "(empty)";
        var all = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join(" | ", all.Skip(Math.Max(0, all.Length - lines)).Select(l => l.Trim()));
    }
}
