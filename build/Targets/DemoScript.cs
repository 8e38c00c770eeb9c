namespace Microsandbox.Build.Targets;

/// <summary>
/// What the Demo target shows: the <c>microsandbox</c> CLI commands it runs from the repository root, then the
/// shell script it runs inside a freshly booted microVM. Edit these to change what the main job shows.
/// </summary>
internal static class DemoScript
{
    public static readonly IReadOnlyList<string[]> Commands =
    [
        ["spec", "validate", "samples/sandbox.json"],
    ];

    /// <summary>Runs as <c>/bin/sh -c</c> in the guest; proves it is a separate Linux kernel, not the host.</summary>
    public const string GuestScript =
        "echo \"hello from a microVM, started by $DEMO_FROM\"; " +
        "echo \"kernel: $(uname -sr), cpus: $(grep -c ^processor /proc/cpuinfo), hostname: $(hostname)\"; " +
        "echo \"memory: $(grep MemTotal /proc/meminfo | tr -s ' ')\"";
}
