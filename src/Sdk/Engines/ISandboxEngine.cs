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
    /// <param name="spec">The sandbox spec.</param>
    /// <param name="preparedRootDisk">The root disk the image layer built for an OCI image (<c>OciImages.PrepareAsync</c>).</param>
    SandboxSpec ResolveImage(SandboxSpec spec, string? preparedRootDisk = null);

    /// <summary>Adds this engine's settings to a planned launch config.</summary>
    LaunchConfig Complete(LaunchConfig launch, SandboxSpec spec);
}
