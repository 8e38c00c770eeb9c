using Microsandbox.Config;
using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>An HTTP status on a path of a published port, asked from the host.</summary>
internal sealed record HttpWait(string Path, int GuestPort, int Status) : WaitStrategy
{
    public override string Description => $"HTTP {Status} on :{GuestPort}{Path}";

    internal override void Validate(SandboxSpec spec, SandboxConfig config)
    {
        if (!spec.Network.Ports.Any(p => p.GuestPort == GuestPort && p.Protocol == PortProtocol.Tcp))
            throw new InvalidConfigException($"wait for {Description}: guest port {GuestPort}/tcp is not published; add it with SandboxBuilder.Port");
    }

    internal override async Task UntilAsync(Sandbox sandbox, CancellationToken cancellationToken)
    {
        var host = sandbox.GetMappedHost(GuestPort);
        if (host is "0.0.0.0") host = "127.0.0.1";
        if (host is "::") host = "::1";
        var uri = new UriBuilder("http", host, sandbox.GetMappedPort(GuestPort), Path).Uri;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await PollAsync(async ct =>
        {
            try
            {
                using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                return (int)response.StatusCode == Status;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                return false;
            }
        }, cancellationToken).ConfigureAwait(false);
    }
}
