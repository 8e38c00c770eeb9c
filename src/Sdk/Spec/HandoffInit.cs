namespace Microsandbox.Spec;

/// <summary>Hand-off init: after agent setup, PID 1 is handed to this guest binary.</summary>
public sealed record HandoffInit
{
    /// <summary>Init binary: an absolute guest path, or the literal <c>auto</c>. JSON <c>cmd</c>, required.</summary>
    public string Cmd { get; init; } = "";

    /// <summary>Extra argv after the implicit <c>argv[0]</c> (= <see cref="Cmd"/>); empty when missing.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>Extra environment merged on top of the inherited one, as <c>[key, value]</c> pairs; empty when missing.</summary>
    public IReadOnlyList<(string Key, string Value)> Env { get; init; } = [];

    /// <summary>Whether both hold the same command, arguments and environment.</summary>
    public bool Equals(HandoffInit? other) =>
        other is not null && Cmd == other.Cmd && SpecEquality.Sequence(Args, other.Args) && SpecEquality.Sequence(Env, other.Env);

    /// <summary>A hash consistent with <see cref="Equals(HandoffInit?)"/>.</summary>
    public override int GetHashCode() => HashCode.Combine(Cmd, SpecEquality.SequenceHash(Args), SpecEquality.SequenceHash(Env));
}
