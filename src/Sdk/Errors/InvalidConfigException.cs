namespace Microsandbox;

/// <summary>
/// A sandbox, image, mount or patch setting breaks one of the validation rules.
/// The message names the field and the rule (upstream's <c>InvalidConfig</c> error text).
/// </summary>
public sealed class InvalidConfigException : MicrosandboxException
{
    /// <summary>Creates the exception with upstream's message text.</summary>
    public InvalidConfigException(string message) : base(message) { }
}
