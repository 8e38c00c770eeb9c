using System.Collections.Immutable;

namespace Microsandbox;

/// <summary>
/// Extra argv and environment for a hand-off init (<see cref="SandboxBuilder.InitWith"/>), e.g.
/// systemd's <c>--unit=multi-user.target</c>. Immutable: every method returns a new builder.
/// </summary>
public sealed class InitOptionsBuilder
{
    private readonly ImmutableList<string> _args;
    private readonly ImmutableList<(string Key, string Value)> _env;

    /// <summary>Creates an empty option set.</summary>
    public InitOptionsBuilder() : this([], []) { }

    private InitOptionsBuilder(ImmutableList<string> args, ImmutableList<(string Key, string Value)> env)
    {
        _args = args;
        _env = env;
    }

    /// <summary>Appends one argument.</summary>
    public InitOptionsBuilder Arg(string arg) => new(_args.Add(arg ?? throw new ArgumentNullException(nameof(arg))), _env);

    /// <summary>Appends several arguments.</summary>
    public InitOptionsBuilder Args(params IEnumerable<string> args) => new(_args.AddRange(args), _env);

    /// <summary>Appends one environment variable.</summary>
    public InitOptionsBuilder Env(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        return new(_args, _env.Add((key, value)));
    }

    /// <summary>Appends several environment variables.</summary>
    public InitOptionsBuilder Envs(IEnumerable<KeyValuePair<string, string>> vars) =>
        new(_args, _env.AddRange(vars.Select(kv => (kv.Key, kv.Value))));

    internal IReadOnlyList<string> BuiltArgs => _args;

    internal IReadOnlyList<(string Key, string Value)> BuiltEnv => _env;
}
