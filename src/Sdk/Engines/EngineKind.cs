namespace Microsandbox.Engines;

/// <summary>Which VMM runs sandboxes.</summary>
public enum EngineKind
{
    /// <summary>libkrun (through <c>msb</c>) where hardware virtualisation works, QEMU otherwise.</summary>
    Auto,
    /// <summary>QEMU: KVM when it works, software emulation otherwise.</summary>
    Qemu,
    /// <summary>libkrun through the upstream runtime <c>msb</c>.</summary>
    Krun,
}
