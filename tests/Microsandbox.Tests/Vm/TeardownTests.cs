using Microsandbox.Host;

namespace Microsandbox.Tests.Vm;

/// <summary>
/// Removing an ephemeral sandbox whose guest holds nothing anyone keeps does not wait for a graceful guest power-off:
/// QEMU is discarded at once, writes already made through a bind mount are on the host, and nothing is left behind.
/// A sandbox with something to keep still powers off gracefully.
/// </summary>
public sealed class TeardownTests(ITestOutputHelper output) : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _shared = Directory.CreateTempSubdirectory("msbtd-").FullName;

    public void Dispose() => Directory.Delete(_shared, recursive: true);

    [Fact]
    public async Task An_ephemeral_sandbox_is_discarded_without_losing_what_reached_the_host()
    {
        VmEnvironment.RequireVm();
        File.SetUnixFileMode(_shared, (UnixFileMode)0x1ff);
        var sb = await Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("discard")).Image(BuiltinImages.Busybox).Ephemeral().Volume("/shared", m => m.Bind(_shared)),
            VmEnvironment.Options(output), Ct);
        Assert.Equal(0, (await sb.ShellAsync("echo kept > /shared/out.txt", Ct)).ExitCode);
        // Held open across the removal, which deletes it: what the sandbox process wrote last stays readable.
        using var runtimeLog = new FileStream(Path.Combine(sb.LogDirectory, "runtime.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

        await sb.DisposeAsync();

        var log = await new StreamReader(runtimeLog).ReadToEndAsync(Ct);
        Assert.Contains("stopping VM: discarded (nothing in the guest is kept)", log, StringComparison.Ordinal);
        Assert.DoesNotContain("could not ask the guest to shut down", log, StringComparison.Ordinal);
        Assert.Equal("kept\n", await File.ReadAllTextAsync(Path.Combine(_shared, "out.txt"), Ct));
        Assert.Empty(LifecycleTests.QemuProcessesFor(sb.Name));
        Assert.False(Directory.Exists(new MicrosandboxHome(VmEnvironment.Home).SandboxDirectory(sb.Name)));
        await using var store = await Microsandbox.State.StateStore.OpenAsync(VmEnvironment.Home, Ct);
        Assert.Null(await store.GetSandboxAsync(sb.Name, Ct));
    }

    [Fact]
    public async Task A_sandbox_with_something_to_keep_powers_off_gracefully()
    {
        VmEnvironment.RequireVm();
        var sb = await Sandbox.CreateAsync(
            new SandboxBuilder(VmEnvironment.UniqueName("graceful")).Image(BuiltinImages.Busybox), VmEnvironment.Options(output), Ct);
        try
        {
            await sb.StopAsync(Ct);
            var log = await File.ReadAllTextAsync(Path.Combine(sb.LogDirectory, "runtime.log"), Ct);
            Assert.Contains("stopping VM: Signal", log, StringComparison.Ordinal);
            Assert.DoesNotContain("discarded", log, StringComparison.Ordinal);
        }
        finally
        {
            await sb.RemoveAsync(Ct);
        }
    }
}
