namespace Microsandbox.Modules;

/// <summary>
/// A service module's builder, as front ends (the xUnit fixtures, your own) use it: add the module's settings to a
/// named sandbox builder, then wrap the booted sandbox in the module's handle. Implement it for a module of your own.
/// </summary>
/// <typeparam name="TServer">The module's handle.</typeparam>
public interface IServiceModule<out TServer> where TServer : IServiceSandbox
{
    /// <summary>Adds the module's settings (image, ports, main process, waits…) to <paramref name="builder"/>.</summary>
    SandboxBuilder ApplyTo(SandboxBuilder builder);

    /// <summary>The handle for a sandbox booted from <see cref="ApplyTo"/>'s settings.</summary>
    TServer Attach(Sandbox sandbox);
}

/// <summary>A running service: its sandbox and how a client reaches it.</summary>
public interface IServiceSandbox : IAsyncDisposable
{
    /// <summary>The sandbox the service runs in.</summary>
    Sandbox Sandbox { get; }

    /// <summary>What the service's usual client takes to connect.</summary>
    string GetConnectionString();
}
