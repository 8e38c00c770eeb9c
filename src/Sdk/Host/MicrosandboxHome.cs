using System.Security.Cryptography;
using System.Text;

namespace Microsandbox.Host;

/// <summary>
/// The state directory layout shared with the upstream runtime: <c>$MSB_HOME</c> when set, else <c>~/.microsandbox</c>,
/// holding <c>db/msb.db</c>, <c>run/</c> (sockets, locks) and <c>sandboxes/NAME/</c> (logs, runtime files).
/// </summary>
public sealed record MicrosandboxHome
{
    /// <summary>The longest unix socket path the kernel accepts (<c>sun_path</c> is 108 bytes including the terminator).</summary>
    public const int MaxUnixSocketPathBytes = 107;

    /// <summary>Creates the layout rooted at <paramref name="root"/>.</summary>
    public MicrosandboxHome(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
    }

    /// <summary>The home directory itself.</summary>
    public string Root { get; }

    /// <summary>The home upstream uses: <c>$MSB_HOME</c>, else <c>~/.microsandbox</c>.</summary>
    public static MicrosandboxHome Default => new(DefaultRoot());

    /// <summary>The default home directory path (<c>$MSB_HOME</c>, else <c>~/.microsandbox</c>).</summary>
    public static string DefaultRoot()
    {
        var fromEnv = Environment.GetEnvironmentVariable("MSB_HOME");
        if (!string.IsNullOrWhiteSpace(fromEnv)) return fromEnv;
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".microsandbox");
    }

    /// <summary>The per-user install location (always <c>~/.microsandbox</c>), where the build puts kernels and <c>msb</c> even when a test moves <see cref="Root"/>.</summary>
    public static string UserInstallRoot() =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".microsandbox");

    /// <summary><c>db/msb.db</c>.</summary>
    public string DatabasePath => Path.Combine(Root, "db", "msb.db");

    /// <summary><c>run/</c>: sockets and lifecycle locks.</summary>
    public string RunDirectory => Path.Combine(Root, "run");

    /// <summary><c>sandboxes/</c>: one directory per sandbox.</summary>
    public string SandboxesDirectory => Path.Combine(Root, "sandboxes");

    /// <summary><c>sandboxes/NAME</c>.</summary>
    public string SandboxDirectory(string name) => Path.Combine(SandboxesDirectory, name);

    /// <summary><c>sandboxes/NAME/logs</c>.</summary>
    public string LogDirectory(string name) => Path.Combine(SandboxDirectory(name), "logs");

    /// <summary><c>sandboxes/NAME/runtime</c>.</summary>
    public string RuntimeDirectory(string name) => Path.Combine(SandboxDirectory(name), "runtime");

    /// <summary>The relay socket clients connect to: <c>run/sandboxes/&lt;24 hex of sha256(name)&gt;/agent.sock</c>.</summary>
    public string AgentSocketPath(string name) =>
        Path.Combine(RunDirectory, "sandboxes", NameHash(name, 12), "agent.sock");

    /// <summary>The legacy flat relay path older clients look for: <c>run/agent/&lt;32 hex&gt;.sock</c>.</summary>
    public string LegacyAgentSocketPath(string name) =>
        Path.Combine(RunDirectory, "agent", NameHash(name, 16) + ".sock");

    /// <summary>The lifecycle lock a sandbox process holds for its whole life: <c>run/locks/&lt;32 hex&gt;.lock</c>.</summary>
    public string LifecycleLockPath(string name) =>
        Path.Combine(RunDirectory, "locks", NameHash(name, 16) + ".lock");

    /// <summary>True when <paramref name="path"/> fits in a unix socket address.</summary>
    public static bool SocketPathFits(string path) => Encoding.UTF8.GetByteCount(path) <= MaxUnixSocketPathBytes;

    /// <summary>Lower-case hex of the first <paramref name="bytes"/> bytes of sha256(<paramref name="name"/>).</summary>
    internal static string NameHash(string name, int bytes) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, bytes));
}
