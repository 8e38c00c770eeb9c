using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Microsandbox.DockerApi.Containers;

/// <summary>
/// The address shown as a container network's gateway. Clients that run inside a container themselves (Testcontainers
/// checks <c>/.dockerenv</c>) connect to published ports through the gateway, as they would reach Docker's host
/// through its bridge. Here published ports listen on this host, so the gateway is this host's first IPv4 address
/// outside loopback (reachable from this host and from containers on it), or loopback when it has none.
/// </summary>
internal static class HostAddress
{
    private static readonly Lazy<string> Primary = new(() =>
    {
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback) continue;
                var address = nic.GetIPProperties().UnicastAddresses
                    .Select(a => a.Address)
                    .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
                if (address is not null) return address.ToString();
            }
        }
        catch (NetworkInformationException)
        {
        }
        return IPAddress.Loopback.ToString();
    });

    public static string Gateway => Primary.Value;
}
