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
}
