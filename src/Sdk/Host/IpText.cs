using System.Net;

namespace Microsandbox.Host;

/// <summary>
/// IP addresses as people write them in rules: IPv4 only as four decimal octets (<see cref="IPAddress.TryParse(string?, out IPAddress?)"/>
/// also takes <c>10.1</c>, octal and hex, so a typo would silently name another address), IPv6 as any textual form.
/// </summary>
internal static class IpText
{
    public static bool TryParse(string text, out IPAddress address)
    {
        address = IPAddress.None;
        if (!text.Contains(':', StringComparison.Ordinal))
        {
            var octets = text.Split('.');
            if (octets.Length != 4 || octets.Any(o => o.Length is 0 or > 3 || !o.All(char.IsAsciiDigit) || (o.Length > 1 && o[0] == '0') || int.Parse(o, System.Globalization.CultureInfo.InvariantCulture) > 255))
                return false;
        }
        if (!IPAddress.TryParse(text, out var parsed)) return false;
        address = parsed;
        return true;
    }

    /// <summary>The longest prefix of <paramref name="address"/>'s family: 32 or 128.</summary>
    public static int MaxPrefix(IPAddress address) => address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;

    /// <summary>A CIDR prefix length: decimal digits only, at most <see cref="MaxPrefix"/> for the address's family.</summary>
    public static bool TryParsePrefix(string text, IPAddress address, out int prefix) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefix)
        && prefix <= MaxPrefix(address);
}
