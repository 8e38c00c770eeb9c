namespace Microsandbox.Spec;

/// <summary>Default values of the wire contract (upstream <c>microsandbox-types</c> constants).</summary>
public static class SpecDefaults
{
    /// <summary>Default number of virtual CPUs in a sandbox specification (<c>DEFAULT_SANDBOX_CPUS</c>).</summary>
    public const byte DefaultSandboxCpus = 1;

    /// <summary>Default guest memory in MiB in a sandbox specification (<c>DEFAULT_SANDBOX_MEMORY_MIB</c>).</summary>
    public const uint DefaultSandboxMemoryMib = 512;

    /// <summary>Default metrics sampling interval in milliseconds (<c>DEFAULT_METRICS_SAMPLE_INTERVAL_MS</c>).</summary>
    public const ulong DefaultMetricsSampleIntervalMs = 1000;

    /// <summary>Default host address a published port binds to.</summary>
    public const string DefaultPortHostBind = "127.0.0.1";
}
