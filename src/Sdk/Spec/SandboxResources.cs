namespace Microsandbox.Spec;

/// <summary>CPU and memory resources of a sandbox; each field takes its default when missing.</summary>
public sealed record SandboxResources
{
    /// <summary>Number of virtual CPUs, 0..255 (default <see cref="SpecDefaults.DefaultSandboxCpus"/>).</summary>
    public byte Cpus { get; init; } = SpecDefaults.DefaultSandboxCpus;

    /// <summary>Guest memory in MiB (default <see cref="SpecDefaults.DefaultSandboxMemoryMib"/>).</summary>
    public uint MemoryMib { get; init; } = SpecDefaults.DefaultSandboxMemoryMib;
}
