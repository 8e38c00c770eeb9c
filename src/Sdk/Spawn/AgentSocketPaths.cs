using System.Text;
using Microsandbox.Host;

namespace Microsandbox.Spawn;

/// <summary>
/// Where a client looks for a sandbox's relay socket (upstream <c>sandbox_agent_socket_path_candidates</c>): the
/// canonical <c>run/sandboxes/&lt;24 hex&gt;/agent.sock</c>, then the flat legacy <c>run/agent/&lt;32 hex&gt;.sock</c> of
/// older runtimes, then the pre-hash <c>sandboxes/NAME/runtime/agent.sock</c>. A new sandbox always serves the
/// canonical path, which must fit a unix socket address.
/// </summary>
public static class AgentSocketPaths
{
    /// <summary>The candidates in the order clients try them.</summary>
    public static IReadOnlyList<string> Candidates(MicrosandboxHome home, string name)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(name);
        return [home.AgentSocketPath(name), home.LegacyAgentSocketPath(name), Path.Combine(home.RuntimeDirectory(name), "agent.sock")];
    }

    /// <summary>The path a new sandbox serves: the canonical candidate; errors when it cannot be a socket address.</summary>
    public static string ResolveForNewSandbox(MicrosandboxHome home, string name)
    {
        var path = Candidates(home, name)[0];
        if (!MicrosandboxHome.SocketPathFits(path))
            throw new MicrosandboxException(
                $"Unix socket path is too long: {Encoding.UTF8.GetByteCount(path)} bytes at {path}; paths must be shorter than {MicrosandboxHome.MaxUnixSocketPathBytes + 1} bytes (use a shorter MSB_HOME)");
        return path;
    }

    /// <summary>The socket a client should connect to: the first candidate that exists, else the canonical one.</summary>
    public static string ResolveExisting(MicrosandboxHome home, string name)
    {
        var candidates = Candidates(home, name);
        return candidates.FirstOrDefault(File.Exists) ?? candidates[0];
    }
}
