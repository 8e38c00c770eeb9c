using Microsandbox.Spec;
using Microsandbox.Xunit;
using Microsoft.Extensions.DependencyInjection;

namespace Microsandbox.Tests.Xunit;

/// <summary>Options, named definitions and the builder a factory hands out; no VM is booted.</summary>
public sealed class XunitOptionsTests
{
    private static readonly string Home = Path.Combine(Path.GetTempPath(), "msbx-options");

    private static SandboxFactory Factory(Action<IServiceCollection>? more = null, Action<MicrosandboxOptions>? configure = null)
    {
        var provider = MicrosandboxServices.BuildProvider(services =>
        {
            services.AddMicrosandbox(o =>
            {
                o.HomeDirectory = Home;
                configure?.Invoke(o);
            });
            more?.Invoke(services);
        });
        return provider.GetRequiredService<SandboxFactory>();
    }

    [Fact]
    public void Invalid_options_fail_at_startup_naming_each_setting_and_rule()
    {
        var e = Assert.Throws<InvalidConfigException>(() => Factory(configure: o =>
        {
            o.HomeDirectory = "relative/dir";
            o.BootTimeout = TimeSpan.Zero;
            o.StopTimeout = TimeSpan.FromSeconds(-1);
            o.PoolSize = -1;
            o.PoolBootConcurrency = 0;
            o.NamePrefix = "9-starts-with-a-digit";
            o.DefaultImage = null;
        }));
        Assert.StartsWith("Microsandbox options are invalid: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("HomeDirectory must be an absolute path, got 'relative/dir'", e.Message, StringComparison.Ordinal);
        Assert.Contains("BootTimeout must be positive, got 00:00:00", e.Message, StringComparison.Ordinal);
        Assert.Contains("StopTimeout must not be negative", e.Message, StringComparison.Ordinal);
        Assert.Contains("PoolSize must be 0 or more, got -1", e.Message, StringComparison.Ordinal);
        Assert.Contains("PoolBootConcurrency must be at least 1, got 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("NamePrefix must be 1-20 ASCII letters, digits or '-', starting with a letter, got '9-starts-with-a-digit'", e.Message, StringComparison.Ordinal);
        Assert.Contains("DefaultImage must be set", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_are_valid_and_use_busybox_and_the_pool()
    {
        var factory = Factory();
        Assert.Equal(Home, factory.HomeDirectory);
        Assert.True(factory.Options.PoolSize >= 1);
        var spec = factory.CreateBuilder().Build().Spec;
        var disk = Assert.IsType<RootfsSource.DiskImage>(spec.Image);
        Assert.Equal(BuiltinImages.BusyboxDisk, disk.Path);
    }

    [Fact]
    public void Duplicate_definition_names_fail_at_startup()
    {
        var e = Assert.Throws<InvalidConfigException>(() => Factory(s => s.AddSandbox("db", b => b).AddSandbox("db", b => b.Memory(256))));
        Assert.Equal("sandbox definition 'db' is registered twice; each AddSandbox name must be unique", e.Message);
    }

    [Fact]
    public void An_unknown_definition_names_the_registered_ones()
    {
        var factory = Factory(s => s.AddSandbox("web", b => b).AddSandbox("db", b => b));
        var e = Assert.Throws<InvalidConfigException>(() => factory.CreateBuilder("cache"));
        Assert.Equal("no sandbox definition named 'cache' (registered: db, web); add it with services.AddSandbox(\"cache\", b => …)", e.Message);
    }

    [Fact]
    public void Builder_applies_default_image_then_definition_then_override_and_is_ephemeral()
    {
        var factory = Factory(s => s.AddSandbox("db", b => b.Env("ROLE", "db").Env("PORT", "5432").Memory(256)));
        var spec = factory.CreateBuilder("db", b => b.Env("PORT", "6543")).Build().Spec;
        Assert.True(spec.Lifecycle.Ephemeral);
        Assert.Equal(256u, spec.Resources.MemoryMib);
        // The override comes after the definition, so its value is the one the guest sees (the last entry wins).
        Assert.Equal("db", spec.Env.Last(e => e.Key == "ROLE").Value);
        Assert.Equal(["5432", "6543"], spec.Env.Where(e => e.Key == "PORT").Select(e => e.Value));
        Assert.IsType<RootfsSource.DiskImage>(spec.Image);
    }

    [Fact]
    public void KeepSandboxes_turns_the_ephemeral_policy_off()
    {
        var spec = Factory(configure: o => o.KeepSandboxes = true).CreateBuilder().Build().Spec;
        Assert.False(spec.Lifecycle.Ephemeral);
    }

    [Fact]
    public async Task Names_are_unique_per_process_run_and_per_sandbox()
    {
        // Two factories stand for two test assemblies (or two runs): their run ids differ.
        var a = Factory(configure: o => o.NamePrefix = "it");
        var b = Factory(configure: o => o.NamePrefix = "it");
        Assert.NotEqual(a.RunId, b.RunId);
        Assert.Contains(Environment.ProcessId.ToString("x"), a.RunId, StringComparison.Ordinal);

        var names = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).NextName())));
        Assert.Equal(names.Length, names.Distinct().Count());
        Assert.All(names, n => Assert.Matches("^it-[0-9a-f]+-[0-9]+$", n));
        Assert.All(names, n => new SandboxBuilder(n).Image(BuiltinImages.Busybox).Build());
    }

    [Fact]
    public void An_unusable_engine_is_reported_with_its_own_reason()
    {
        var empty = Directory.CreateTempSubdirectory("msbx-noassets-").FullName;
        try
        {
            var factory = Factory(configure: o =>
            {
                o.Engine = Engines.EngineKind.Qemu;
                o.QemuAssetsDirectory = empty;
            });
            Assert.NotNull(factory.EngineUnavailableReason);
            Assert.Contains("qemu engine unavailable", factory.EngineUnavailableReason, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }
}
