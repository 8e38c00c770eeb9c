namespace Microsandbox.Config;

/// <summary>
/// Credentials for an OCI registry. Used only while pulling; never serialised with a sandbox's config.
/// </summary>
public abstract record RegistryAuth
{
    private protected RegistryAuth() { }

    /// <summary>No authentication (public registries). The default.</summary>
    public static RegistryAuth Anonymous { get; } = new AnonymousAuth();

    /// <summary>Username and password (or token) authentication.</summary>
    public static RegistryAuth Basic(string username, string password) => new BasicAuth(username, password);

    /// <summary>No credentials.</summary>
    public sealed record AnonymousAuth : RegistryAuth;

    /// <summary>Username and password (or token).</summary>
    /// <param name="Username">Registry user name.</param>
    /// <param name="Password">Registry password or token.</param>
    public sealed record BasicAuth(string Username, string Password) : RegistryAuth
    {
        /// <summary>Prints the user name only: secrets must not reach logs.</summary>
        public override string ToString() => $"BasicAuth {{ Username = {Username}, Password = *** }}";
    }
}
