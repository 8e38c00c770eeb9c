namespace Microsandbox.Tests.Vm;

/// <summary>
/// One booted sandbox shared by the tests that only need "a running guest" (exec, files), so CI boots it once.
/// Configured with an env var, hostname and workdir so those settings are checked on the same VM.
/// </summary>
public sealed class SharedSandboxFixture : IAsyncLifetime
{
    private Exception? _startFailure;
    private Sandbox? _sandbox;

    public Sandbox Sandbox
    {
        get
        {
            VmEnvironment.RequireVm();
            if (_startFailure is not null) throw new InvalidOperationException("the shared sandbox failed to start: " + _startFailure.Message, _startFailure);
            return _sandbox!;
        }
    }

    public async ValueTask InitializeAsync()
    {
        try
        {
            QemuAssetsCheck();
            _sandbox = await Sandbox.CreateAsync(
                new SandboxBuilder(VmEnvironment.UniqueName("shared"))
                    .Image(BuiltinImages.Busybox)
                    .Env("GREETING", "hello from the spec")
                    .Hostname("vm-shared")
                    .Workdir("/tmp")
                    .Ephemeral(),
                VmEnvironment.Options());
        }
        catch (Exception e) when (e is MicrosandboxException or IOException)
        {
            _startFailure = e;
        }
    }

    private static void QemuAssetsCheck()
    {
        try
        {
            Engines.Qemu.QemuAssets.Locate();
        }
        catch (Engines.EngineUnavailableException)
        {
            // RequireVm skips each test with the reason; nothing to boot.
            throw new IOException("no VM engine");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_sandbox is not null) await _sandbox.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class SharedSandboxCollection : ICollectionFixture<SharedSandboxFixture>
{
    public const string Name = "shared sandbox";
}
