using Microsandbox.Runtime;
using Microsandbox.Spec;

namespace Microsandbox.Engines;

/// <summary>
/// What differs between VMMs. Everything else — the spec, the DB rows, the launch config, the spawn contract, the
/// relay and the agent protocol — is shared, so an engine only says which sandbox process to start, how it turns an
/// image into something it can boot, and what it adds to the launch config.
/// </summary>
public interface ISandboxEngine
{
    /// <summary>qemu or krun.</summary>
    string Name { get; }

    /// <summary>The sandbox-process program and leading arguments (the launcher appends <c>sandbox --name …</c>).</summary>
    IReadOnlyList<string> SandboxProcessProgram { get; }

    /// <summary>Rewrites the spec's image into a root filesystem this engine boots.</summary>
    SandboxSpec ResolveImage(SandboxSpec spec);

    /// <summary>Adds this engine's settings to a planned launch config.</summary>
    LaunchConfig Complete(LaunchConfig launch, SandboxSpec spec);
}
