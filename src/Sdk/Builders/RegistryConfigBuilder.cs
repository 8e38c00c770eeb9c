using System.Collections.Immutable;
using Microsandbox.Config;

namespace Microsandbox;

/// <summary>
/// Registry connection settings for pulling the sandbox image (<see cref="SandboxBuilder.Registry"/>):
/// credentials, plain HTTP, extra CA roots. None of it is ever persisted. Immutable: every method returns a new builder.
/// </summary>
public sealed class RegistryConfigBuilder
{
    private RegistryAuth? _auth;
    private bool _insecure;
    private ImmutableList<byte[]> _caCerts = [];

    /// <summary>Creates an empty registry configuration.</summary>
    public RegistryConfigBuilder() { }

    /// <summary>Sets the credentials.</summary>
    public RegistryConfigBuilder Auth(RegistryAuth auth) =>
        With(b => b._auth = auth ?? throw new ArgumentNullException(nameof(auth)));

    /// <summary>Talks to the registry over plain HTTP instead of HTTPS.</summary>
    public RegistryConfigBuilder Insecure() => With(b => b._insecure = true);

    /// <summary>Adds PEM-encoded CA root certificates to trust.</summary>
    public RegistryConfigBuilder CaCerts(ReadOnlySpan<byte> pemData)
    {
        var copy = pemData.ToArray();
        return With(b => b._caCerts = b._caCerts.Add(copy));
    }

    internal RegistryAuth? BuiltAuth => _auth;

    internal bool BuiltInsecure => _insecure;

    internal IReadOnlyList<byte[]> BuiltCaCerts => _caCerts;

    private RegistryConfigBuilder With(Action<RegistryConfigBuilder> change)
    {
        var copy = (RegistryConfigBuilder)MemberwiseClone();
        change(copy);
        return copy;
    }
}
