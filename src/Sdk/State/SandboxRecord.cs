namespace Microsandbox.State;

/// <summary>One row of msb's <c>sandbox</c> table together with its <c>sandbox_labels</c> rows.</summary>
/// <param name="Id">Row id (<c>sandbox.id</c>); runs and labels refer to it.</param>
/// <param name="Name">Unique sandbox name.</param>
/// <param name="ConfigJson">The desired configuration (upstream's serialized <c>SandboxConfig</c>), used for the next start.</param>
/// <param name="ActiveConfigJson">The configuration the running VM was started with; null when not running.</param>
/// <param name="Status">Lifecycle state.</param>
/// <param name="Ephemeral">Copy of the config's <c>lifecycle.ephemeral</c>: the row goes away once the sandbox is terminal.</param>
/// <param name="CreatedAt">When the row was inserted (UTC).</param>
/// <param name="UpdatedAt">Last change (UTC).</param>
/// <param name="NetworkSlot">msb's per-host network slot (1-65535), or null.</param>
/// <param name="Labels">Labels, mirrored from the config's <c>labels</c> map (msb filters <c>ls --label</c> on these).</param>
public sealed record SandboxRecord(
    long Id,
    string Name,
    string ConfigJson,
    string? ActiveConfigJson,
    SandboxStatus Status,
    bool Ephemeral,
    DateTime? CreatedAt,
    DateTime? UpdatedAt,
    int? NetworkSlot,
    IReadOnlyDictionary<string, string> Labels);
