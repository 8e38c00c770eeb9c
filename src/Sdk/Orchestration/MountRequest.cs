namespace Microsandbox.Orchestration;

/// <summary>A host directory bound into the guest.</summary>
/// <param name="HostPath">Host directory (made absolute against the current directory).</param>
/// <param name="GuestPath">Absolute guest path.</param>
/// <param name="ReadOnly">Mount read-only.</param>
public sealed record MountRequest(string HostPath, string GuestPath, bool ReadOnly = false)
{
    /// <summary>Parses <c>HOST:GUEST</c> or <c>HOST:GUEST:ro</c> (the CLI's <c>-v</c> syntax).</summary>
    /// <exception cref="InvalidConfigException">The text has another shape.</exception>
    public static MountRequest Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(':');
        bool readOnly = parts.Length == 3 && parts[2] == "ro";
        if (parts.Length is < 2 or > 3 || (parts.Length == 3 && !readOnly) || parts[0].Length == 0 || parts[1].Length == 0)
            throw new InvalidConfigException($"mount '{text}': expected HOST:GUEST or HOST:GUEST:ro");
        return new MountRequest(parts[0], parts[1], readOnly);
    }
}
