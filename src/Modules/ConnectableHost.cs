namespace Microsandbox.Modules;

/// <summary>The address a client connects to for a published port: a wildcard bind is reached on loopback.</summary>
internal static class ConnectableHost
{
    public static string For(string bind) => bind switch
    {
        "0.0.0.0" => "127.0.0.1",
        "::" => "::1",
        _ => bind,
    };
}
