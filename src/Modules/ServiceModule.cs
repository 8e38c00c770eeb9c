namespace Microsandbox.Modules;

/// <summary>What every module's builder shares: the image, the sandbox name, extra sandbox settings, the boot.</summary>
internal static class ServiceModule
{
    /// <summary>A name unique to this start: the module's prefix and 12 random hex digits.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>Boots the service's sandbox: ephemeral, the image's own command as main process, then the extra settings.</summary>
    public static Task<Sandbox> StartAsync(SandboxBuilder builder, Func<SandboxBuilder, SandboxBuilder>? configure, SandboxOptions? options, CancellationToken cancellationToken)
    {
        var configured = configure is null ? builder : configure(builder);
        return Sandbox.CreateAsync(configured, options, cancellationToken);
    }
}
