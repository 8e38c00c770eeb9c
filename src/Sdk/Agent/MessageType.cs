namespace Microsandbox.Agent;

/// <summary>
/// Wire names of every agent message type (the envelope's <c>t</c>), with the flags each must carry and the
/// generation that introduced it. Names and numbers follow upstream <c>schema/gen-7.json</c>.
/// </summary>
public static class MessageType
{
    /// <summary>Host → guest one-shot configuration, sent before anything else (id 0, flags 0).</summary>
    public const string Bootstrap = "core.bootstrap";
    /// <summary>Guest agent finished initialising.</summary>
    public const string Ready = "core.ready";
    /// <summary>Guest reports init-time facts (default user) before user mounts.</summary>
    public const string InitResolved = "core.init.resolved";
    /// <summary>Host acknowledges <see cref="InitResolved"/>.</summary>
    public const string InitAck = "core.init.ack";
    /// <summary>Host asks the guest to shut down.</summary>
    public const string Shutdown = "core.shutdown";
    /// <summary>Relay tells the guest one client went away.</summary>
    public const string RelayClientDisconnected = "core.relay.client.disconnected";
    /// <summary>Host asks the guest to set its wall clock.</summary>
    public const string ClockSync = "core.clock.sync";
    /// <summary>Host reachability check.</summary>
    public const string Ping = "core.ping";
    /// <summary>Guest answer to <see cref="Ping"/>.</summary>
    public const string Pong = "core.pong";
    /// <summary>Host explicitly refreshes the idle timer.</summary>
    public const string Touch = "core.touch";
    /// <summary>Guest answer to <see cref="Touch"/>.</summary>
    public const string Touched = "core.touched";
    /// <summary>Recoverable protocol error for one correlation id.</summary>
    public const string CoreError = "core.error";
    /// <summary>Host starts a command.</summary>
    public const string ExecRequest = "core.exec.request";
    /// <summary>Guest: the command started.</summary>
    public const string ExecStarted = "core.exec.started";
    /// <summary>Host: stdin bytes (empty means end of input).</summary>
    public const string ExecStdin = "core.exec.stdin";
    /// <summary>Guest: a stdin write failed (non-terminal).</summary>
    public const string ExecStdinError = "core.exec.stdin.error";
    /// <summary>Guest: stdout bytes.</summary>
    public const string ExecStdout = "core.exec.stdout";
    /// <summary>Guest: stderr bytes.</summary>
    public const string ExecStderr = "core.exec.stderr";
    /// <summary>Guest: the command exited (terminal).</summary>
    public const string ExecExited = "core.exec.exited";
    /// <summary>Guest: the command could not be started (terminal).</summary>
    public const string ExecFailed = "core.exec.failed";
    /// <summary>Host: resize the command's terminal.</summary>
    public const string ExecResize = "core.exec.resize";
    /// <summary>Host: send a signal to the command.</summary>
    public const string ExecSignal = "core.exec.signal";
    /// <summary>Host: a filesystem operation.</summary>
    public const string FsRequest = "core.fs.request";
    /// <summary>Guest: terminal result of a filesystem operation.</summary>
    public const string FsResponse = "core.fs.response";
    /// <summary>File data chunk, either direction (empty means end of data).</summary>
    public const string FsData = "core.fs.data";
    /// <summary>Host: open a TCP connection from inside the guest.</summary>
    public const string TcpConnect = "core.tcp.connect";
    /// <summary>Guest: TCP connection opened.</summary>
    public const string TcpConnected = "core.tcp.connected";
    /// <summary>TCP data chunk, either direction.</summary>
    public const string TcpData = "core.tcp.data";
    /// <summary>One TCP side closed its write half.</summary>
    public const string TcpEof = "core.tcp.eof";
    /// <summary>Host: close a TCP session.</summary>
    public const string TcpClose = "core.tcp.close";
    /// <summary>Guest: TCP session closed (terminal).</summary>
    public const string TcpClosed = "core.tcp.closed";
    /// <summary>Guest: TCP session failed (terminal).</summary>
    public const string TcpFailed = "core.tcp.failed";

    /// <summary>Every known wire name, in upstream's declaration order.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        Ready, InitResolved, InitAck, Shutdown, RelayClientDisconnected, ClockSync, Ping, Pong, Touch, Touched,
        CoreError, ExecRequest, ExecStarted, ExecStdin, ExecStdinError, ExecStdout, ExecStderr, ExecExited,
        ExecFailed, ExecResize, ExecSignal, FsRequest, FsResponse, FsData, TcpConnect, TcpConnected, TcpData,
        TcpEof, TcpClose, TcpClosed, TcpFailed, Bootstrap,
    ];

    /// <summary>Whether <paramref name="type"/> is a wire name this client knows.</summary>
    public static bool IsKnown(string type) => IntroducedIn(type) is not null;

    /// <summary>
    /// The frame flags a message of this type must carry; peers reject a frame whose flags differ.
    /// Unknown types get 0.
    /// </summary>
    public static byte FlagsOf(string type) => type switch
    {
        Pong or Touched or CoreError or ExecExited or ExecFailed or FsResponse or TcpClosed or TcpFailed
            => FrameFlags.Terminal,
        ExecRequest or FsRequest or TcpConnect => FrameFlags.SessionStart,
        Shutdown => FrameFlags.Shutdown,
        _ => 0,
    };

    /// <summary>The protocol generation that introduced <paramref name="type"/>, or null when unknown.</summary>
    public static byte? IntroducedIn(string type) => type switch
    {
        Ready or InitResolved or InitAck or Shutdown or RelayClientDisconnected or ClockSync or ExecRequest
            or ExecStarted or ExecStdin or ExecStdinError or ExecStdout or ExecStderr or ExecExited or ExecFailed
            or ExecResize or ExecSignal => 1,
        FsRequest or FsResponse or FsData => 2,
        TcpConnect or TcpConnected or TcpData or TcpEof or TcpClose or TcpClosed or TcpFailed => 4,
        CoreError => 5,
        Ping or Pong or Touch or Touched => 6,
        Bootstrap => 7,
        _ => null,
    };
}
