using Microsandbox.Spec;

namespace Microsandbox.Tests.Spec;

/// <summary>The 11 <c>#[test]</c>s of microsandbox-types 0.5.10 <c>types.rs</c>, same inputs, same expectations.</summary>
public class SeedTypesTests
{
    [Fact]
    public void disk_image_format_from_extension()
    {
        Assert.Equal(DiskImageFormat.Qcow2, DiskImageFormatExtensions.FromExtension("qcow2"));
        Assert.Equal(DiskImageFormat.Raw, DiskImageFormatExtensions.FromExtension("raw"));
        Assert.Equal(DiskImageFormat.Vmdk, DiskImageFormatExtensions.FromExtension("vmdk"));
        Assert.Null(DiskImageFormatExtensions.FromExtension("ext4"));
        Assert.Null(DiskImageFormatExtensions.FromExtension(""));
    }

    [Fact]
    public void disk_image_format_display_roundtrip()
    {
        foreach (var format in new[] { DiskImageFormat.Qcow2, DiskImageFormat.Raw, DiskImageFormat.Vmdk })
        {
            string rendered = format.AsStr();
            var parsed = DiskImageFormatExtensions.Parse(rendered);
            Assert.Equal(format, parsed);
        }
    }

    [Fact]
    public void disk_image_format_from_str_unknown()
    {
        Assert.False(DiskImageFormatExtensions.TryParse("ext4", out _));
        var error = Assert.Throws<FormatException>(() => DiskImageFormatExtensions.Parse("ext4"));
        Assert.Equal("unknown disk image format: ext4", error.Message);
    }

    [Fact]
    public void log_source_effective_uses_default_user_program_sources()
    {
        Assert.Equal([LogSource.Stdout, LogSource.Stderr, LogSource.Output], LogSourceExtensions.Effective([]));
    }

    [Fact]
    public void log_source_effective_sorts_and_deduplicates_requested_sources()
    {
        Assert.Equal(
            [LogSource.Stdout, LogSource.System],
            LogSourceExtensions.Effective([LogSource.System, LogSource.Stdout, LogSource.System]));
    }

    [Fact]
    public void rlimit_resource_parses_case_insensitively()
    {
        Assert.Equal(RlimitResource.Nofile, RlimitResourceExtensions.Parse("NOFILE"));
        Assert.False(RlimitResourceExtensions.TryParse("bogus", out _));
        Assert.Equal("unknown rlimit resource: bogus", Assert.Throws<FormatException>(() => RlimitResourceExtensions.Parse("bogus")).Message);
    }

    [Fact]
    public void sandbox_policy_serde_roundtrip()
    {
        var policy = new SandboxPolicy { Ephemeral = true, MaxDurationSecs = 3600, IdleTimeoutSecs = 120 };
        string json = SpecJson.Serialize(policy);
        var decoded = SpecJson.Deserialize<SandboxPolicy>(json);
        Assert.True(decoded.Ephemeral);
        Assert.Equal(3600UL, decoded.MaxDurationSecs);
        Assert.Equal(120UL, decoded.IdleTimeoutSecs);
    }

    [Fact]
    public void sandbox_policy_defaults_to_persistent()
    {
        Assert.False(new SandboxPolicy().Ephemeral);
    }

    [Fact]
    public void sandbox_policy_deserializes_missing_ephemeral_as_persistent()
    {
        var decoded = SpecJson.Deserialize<SandboxPolicy>("""{"max_duration_secs":60,"idle_timeout_secs":null}""");
        Assert.False(decoded.Ephemeral);
        Assert.Equal(60UL, decoded.MaxDurationSecs);
    }

    [Fact]
    public void sandbox_spec_default_uses_static_resource_defaults()
    {
        var spec = new SandboxSpec();
        Assert.Equal(SpecDefaults.DefaultSandboxCpus, spec.Resources.Cpus);
        Assert.Equal(SpecDefaults.DefaultSandboxMemoryMib, spec.Resources.MemoryMib);
        Assert.Equal(SpecDefaults.DefaultMetricsSampleIntervalMs, spec.Runtime.MetricsSampleIntervalMs);
    }

    [Fact]
    public void sandbox_log_level_roundtrips_lowercase_values()
    {
        foreach (var (input, expected) in new[]
        {
            ("error", SandboxLogLevel.Error),
            ("warn", SandboxLogLevel.Warn),
            ("info", SandboxLogLevel.Info),
            ("debug", SandboxLogLevel.Debug),
            ("trace", SandboxLogLevel.Trace),
        })
        {
            var parsed = SandboxLogLevelExtensions.Parse(input);
            Assert.Equal(expected, parsed);
            Assert.Equal(input, parsed.AsStr());
        }
    }
}
