using System.Globalization;

namespace Microsandbox.Orchestration;

/// <summary>A guest TCP port published on the host's loopback address.</summary>
/// <param name="HostPort">Host port.</param>
/// <param name="GuestPort">Guest port.</param>
public sealed record PortRequest(ushort HostPort, ushort GuestPort)
{
    /// <summary>Parses <c>HOST:GUEST</c> (the CLI's <c>-p</c> syntax).</summary>
    /// <exception cref="InvalidConfigException">The text is not two port numbers.</exception>
    public static PortRequest Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(':');
        if (parts.Length != 2
            || !ushort.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var host)
            || !ushort.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var guest)
            || guest == 0)
            throw new InvalidConfigException($"port '{text}': expected HOST:GUEST port numbers (GUEST 1-65535)");
        return new PortRequest(host, guest);
    }
}
