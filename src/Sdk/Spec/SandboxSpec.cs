using System.Collections.Immutable;

namespace Microsandbox.Spec;

/// <summary>
/// Backend-neutral sandbox description: the durable wire contract shared with upstream microsandbox.
/// A new instance equals upstream's <c>SandboxSpec::default()</c>; on read every missing field takes that default.
/// </summary>
public sealed record SandboxSpec
{
    /// <summary>Unique sandbox name.</summary>
    public string Name { get; init; } = "";

    /// <summary>Root filesystem source (default: OCI with an empty reference).</summary>
    public RootfsSource Image { get; init; } = RootfsSource.Default;

    /// <summary>CPU and memory resources.</summary>
    public SandboxResources Resources { get; init; } = new();

    /// <summary>Guest runtime options.</summary>
    public SandboxRuntimeOptions Runtime { get; init; } = new();

    /// <summary>Environment variables visible to commands in the sandbox, in order.</summary>
    public IReadOnlyList<EnvVar> Env { get; init; } = [];

    /// <summary>User-defined labels; written sorted by key (ordinal on UTF-8 bytes, like a Rust <c>BTreeMap</c>).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>Sandbox-wide resource limits inherited by guest processes.</summary>
    public IReadOnlyList<Rlimit> Rlimits { get; init; } = [];

    /// <summary>Volume mounts.</summary>
    public IReadOnlyList<VolumeMount> Mounts { get; init; } = [];

    /// <summary>Rootfs patches applied before the VM starts.</summary>
    public IReadOnlyList<Patch> Patches { get; init; } = [];

    /// <summary>Network specification.</summary>
    public NetworkSpec Network { get; init; } = new();

    /// <summary>Hand PID 1 to a guest init binary after agent setup; <see langword="null"/> keeps the agent as init.</summary>
    public HandoffInit? Init { get; init; }

    /// <summary>Pull policy for OCI images.</summary>
    public PullPolicy PullPolicy { get; init; } = PullPolicy.IfMissing;

    /// <summary>In-guest security profile.</summary>
    public SecurityProfile SecurityProfile { get; init; } = SecurityProfile.Default;

    /// <summary>Lifecycle policy.</summary>
    public SandboxPolicy Lifecycle { get; init; } = new();

    /// <summary>Whether both specs hold the same values (lists, labels and nested records compared by content).</summary>
    public bool Equals(SandboxSpec? other) =>
        other is not null
        && Name == other.Name
        && Equals(Image, other.Image)
        && Equals(Resources, other.Resources)
        && Equals(Runtime, other.Runtime)
        && SpecEquality.Sequence(Env, other.Env)
        && SpecEquality.Map(Labels, other.Labels)
        && SpecEquality.Sequence(Rlimits, other.Rlimits)
        && SpecEquality.Sequence(Mounts, other.Mounts)
        && SpecEquality.Sequence(Patches, other.Patches)
        && Equals(Network, other.Network)
        && Equals(Init, other.Init)
        && PullPolicy == other.PullPolicy
        && SecurityProfile == other.SecurityProfile
        && Equals(Lifecycle, other.Lifecycle);

    /// <summary>A hash consistent with <see cref="Equals(SandboxSpec?)"/>.</summary>
    public override int GetHashCode() =>
        HashCode.Combine(Name, Image, Resources, SpecEquality.SequenceHash(Env), Labels.Count, SpecEquality.SequenceHash(Mounts), PullPolicy, Lifecycle);
}
