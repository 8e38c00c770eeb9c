using Microsandbox.State;

namespace Microsandbox;

/// <summary>What the state database knows of a sandbox, running or not (<see cref="Sandboxes.InspectAsync"/>).</summary>
/// <param name="Name">The sandbox name.</param>
/// <param name="Status">Running, Stopped, Crashed…</param>
/// <param name="Ephemeral">Whether it is removed when it stops.</param>
/// <param name="Image">The image it was created from (reference, path or built-in), as written in its spec.</param>
/// <param name="Pid">The sandbox process of the current or last run.</param>
/// <param name="ExitCode">How the last run ended: the main process's exit code for a sandbox with one, else the VM's; null while running.</param>
/// <param name="TerminationReason">Why the last run ended; null while running.</param>
/// <param name="Ports">Published ports as <c>HOST_BIND:HOST_PORT→GUEST_PORT/PROTOCOL</c> (host port 0: picked at start).</param>
/// <param name="CreatedAt">When the row was written.</param>
/// <param name="Labels">The sandbox's labels.</param>
/// <param name="LogDirectory">Its log directory (<c>exec.log</c>, <c>runtime.log</c>, <c>console.log</c>).</param>
/// <param name="Health">Its main process's health while it runs (<see cref="HealthStatus.None"/> without a health check or when stopped).</param>
public sealed record SandboxInfo(
    string Name,
    SandboxStatus Status,
    bool Ephemeral,
    string Image,
    int? Pid,
    int? ExitCode,
    TerminationReason? TerminationReason,
    IReadOnlyList<string> Ports,
    DateTime? CreatedAt,
    IReadOnlyDictionary<string, string> Labels,
    string LogDirectory,
    HealthStatus Health);
