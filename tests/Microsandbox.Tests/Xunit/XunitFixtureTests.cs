using Microsandbox.State;
using Microsandbox.Tests.Vm;
using Microsandbox.Xunit;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Sdk;

namespace Microsandbox.Tests.Xunit;

/// <summary>
/// How fixtures and pools report failures: skipped with the engine's reason, start failures rethrown in each test with
/// the cause and guest logs, nothing of a failed sandbox left behind. One short, deliberately failing boot at most.
/// </summary>
public sealed class XunitFixtureTests
{
    private sealed class FactoryFixture(SandboxFactory factory) : SandboxFixture
    {
        protected override SandboxFactory ResolveFactory() => factory;
    }

    private static SandboxFactory Factory(Action<MicrosandboxOptions> configure) =>
        MicrosandboxServices.BuildProvider(s => s.AddMicrosandbox(o =>
        {
            o.HomeDirectory = VmEnvironment.Home;
            o.NamePrefix = "xfix";
            configure(o);
        })).GetRequiredService<SandboxFactory>();

    [Fact]
    public async Task No_engine_skips_each_test_with_the_engines_reason()
    {
        var empty = Directory.CreateTempSubdirectory("msbx-noassets-").FullName;
        try
        {
            var fixture = new FactoryFixture(Factory(o =>
            {
                o.Engine = Engines.EngineKind.Qemu;
                o.QemuAssetsDirectory = empty;
                // This test runs on CI too, where the environment alone would require an engine.
                o.RequireEngine = false;
            }));
            await fixture.InitializeAsync();
            Assert.False(fixture.IsStarted);
            // Caught by hand: xUnit's Assert.Throws lets a skip through as a skip.
            SkipException? skip = null;
            try
            {
                _ = fixture.Sandbox;
            }
            catch (SkipException e)
            {
                skip = e;
            }
            Assert.NotNull(skip);
            Assert.Contains("no sandbox engine can run on this host: qemu engine unavailable", skip.Message, StringComparison.Ordinal);
            await fixture.DisposeAsync();
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public async Task No_engine_fails_each_test_with_the_reason_where_an_engine_is_required()
    {
        var empty = Directory.CreateTempSubdirectory("msbx-noassets-").FullName;
        try
        {
            var fixture = new FactoryFixture(Factory(o =>
            {
                o.Engine = Engines.EngineKind.Qemu;
                o.QemuAssetsDirectory = empty;
                o.RequireEngine = true;
            }));
            await fixture.InitializeAsync();
            Assert.False(fixture.IsStarted);
            var failure = Assert.Throws<Engines.EngineUnavailableException>(() => fixture.Sandbox);
            Assert.Contains("qemu engine unavailable: guest kernel missing at " + Path.Combine(empty, "vmlinux"), failure.Message, StringComparison.Ordinal);
            Assert.Contains("an engine is required here: MicrosandboxOptions.RequireEngine", failure.Message, StringComparison.Ordinal);
            await fixture.DisposeAsync();
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public async Task A_start_failure_before_boot_is_rethrown_in_each_test_with_the_cause()
    {
        VmEnvironment.RequireVm();
        var missing = Path.Combine(VmEnvironment.Home, "no-such-disk.raw");
        var fixture = new FactoryFixture(Factory(o => o.DefaultImage = i => i.Disk(missing).Fstype("ext4")));
        await fixture.InitializeAsync();

        var first = Assert.Throws<SandboxFixtureException>(() => fixture.Sandbox);
        var second = Assert.Throws<SandboxFixtureException>(() => fixture.Sandbox);
        Assert.NotSame(first, second);
        Assert.Contains($"failed to start: MicrosandboxException: image: disk image '{missing}' does not exist", first.Message, StringComparison.Ordinal);
        Assert.IsType<MicrosandboxException>(first.InnerException);
        Assert.Equal(first.Message, second.Message);
        await fixture.DisposeAsync();
    }

    [Fact]
    public async Task A_guest_that_never_becomes_ready_fails_each_test_with_its_console_log_and_leaves_nothing()
    {
        VmEnvironment.RequireVm();
        // One second is far shorter than a software-emulated boot: the kernel starts, the agent is never ready.
        var factory = Factory(o => o.BootTimeout = TimeSpan.FromSeconds(1));
        var fixture = new FactoryFixture(factory);
        await fixture.InitializeAsync();

        var e = Assert.Throws<SandboxFixtureException>(() => fixture.Sandbox);
        Assert.IsType<SandboxStartException>(e.InnerException);
        Assert.Contains("did not", e.Message, StringComparison.Ordinal);
        Assert.NotNull(e.GuestLogs);
        Assert.Contains("--- runtime.log", e.GuestLogs, StringComparison.Ordinal);
        Assert.Contains(e.GuestLogs!, e.Message, StringComparison.Ordinal);

        await using var store = await StateStore.OpenAsync(VmEnvironment.Home, TestContext.Current.CancellationToken);
        Assert.Null(await store.GetSandboxAsync(e.SandboxName, TestContext.Current.CancellationToken));
        Assert.False(Directory.Exists(Path.Combine(VmEnvironment.Home, "sandboxes", e.SandboxName)));
        await fixture.DisposeAsync();
    }

    [Fact]
    public async Task A_pool_whose_boots_fail_reports_the_failure_to_each_test_that_asks()
    {
        VmEnvironment.RequireVm();
        var missing = Path.Combine(VmEnvironment.Home, "no-such-disk.raw");
        await using var factory = Factory(o =>
        {
            o.DefaultImage = i => i.Disk(missing).Fstype("ext4");
            o.PoolSize = 2;
        });
        var pool = factory.GetPool("failing", null, null);
        var ct = TestContext.Current.CancellationToken;
        var first = await Assert.ThrowsAsync<SandboxFixtureException>(() => pool.AcquireAsync(ct));
        Assert.Contains("does not exist", first.Message, StringComparison.Ordinal);
        Assert.Equal(2, pool.Waiting);
        await pool.WhenWarmAsync(ct);
        var second = await Assert.ThrowsAsync<SandboxFixtureException>(() => pool.AcquireAsync(ct));
        Assert.Contains("does not exist", second.Message, StringComparison.Ordinal);
        Assert.NotEqual(first.SandboxName, second.SandboxName);
    }
}
