using System.Text.Json;
using Microsandbox.Spec;
using Microsandbox.Spec.Json;

namespace Microsandbox.Tests.Spec;

/// <summary>The writer's serde details: enum spellings, escaping, key order, f64 formatting and the STJ bridge.</summary>
public class SpecJsonWriterTests
{
    [Theory]
    [InlineData(PullPolicy.IfMissing, "\"IfMissing\"")]
    [InlineData(PullPolicy.Always, "\"Always\"")]
    [InlineData(PullPolicy.Never, "\"Never\"")]
    public void Pull_policy_uses_variant_names(PullPolicy value, string json) => RoundTrips(value, json);

    [Theory]
    [InlineData(DiskImageFormat.Qcow2, "\"Qcow2\"")]
    [InlineData(DiskImageFormat.Raw, "\"Raw\"")]
    [InlineData(DiskImageFormat.Vmdk, "\"Vmdk\"")]
    public void Disk_image_format_uses_variant_names(DiskImageFormat value, string json) => RoundTrips(value, json);

    [Theory]
    [InlineData(StatVirtualization.Strict, "\"strict\"")]
    [InlineData(StatVirtualization.Relaxed, "\"relaxed\"")]
    [InlineData(StatVirtualization.Off, "\"off\"")]
    public void Stat_virtualization_is_lowercase(StatVirtualization value, string json) => RoundTrips(value, json);

    [Theory]
    [InlineData(HostPermissions.Private, "\"private\"")]
    [InlineData(HostPermissions.Mirror, "\"mirror\"")]
    public void Host_permissions_are_lowercase(HostPermissions value, string json) => RoundTrips(value, json);

    [Theory]
    [InlineData(SecurityProfile.Default, "\"default\"")]
    [InlineData(SecurityProfile.Restricted, "\"restricted\"")]
    public void Security_profile_is_lowercase(SecurityProfile value, string json) => RoundTrips(value, json);

    [Theory]
    [InlineData(PortProtocol.Tcp, "\"tcp\"")]
    [InlineData(PortProtocol.Udp, "\"udp\"")]
    public void Port_protocol_is_renamed_lowercase(PortProtocol value, string json) => RoundTrips(value, json);

    [Theory]
    [InlineData(VolumeKind.Directory, "\"Directory\"")]
    [InlineData(VolumeKind.Disk, "\"Disk\"")]
    public void Volume_kind_uses_variant_names(VolumeKind value, string json) => RoundTrips(value, json);

    [Theory]
    [InlineData(NamedVolumeMode.Existing, "\"Existing\"")]
    [InlineData(NamedVolumeMode.Create, "\"Create\"")]
    [InlineData(NamedVolumeMode.EnsureExists, "\"EnsureExists\"")]
    public void Named_volume_mode_uses_variant_names(NamedVolumeMode value, string json) => RoundTrips(value, json);

    [Theory]
    [InlineData(SandboxLogLevel.Error, "\"error\"")]
    [InlineData(SandboxLogLevel.Warn, "\"warn\"")]
    [InlineData(SandboxLogLevel.Info, "\"info\"")]
    [InlineData(SandboxLogLevel.Debug, "\"debug\"")]
    [InlineData(SandboxLogLevel.Trace, "\"trace\"")]
    public void Log_level_is_lowercase(SandboxLogLevel value, string json) => RoundTrips(value, json);

    [Theory]
    [InlineData(LogSource.Stdout, "\"stdout\"")]
    [InlineData(LogSource.Stderr, "\"stderr\"")]
    [InlineData(LogSource.Output, "\"output\"")]
    [InlineData(LogSource.System, "\"system\"")]
    public void Log_source_is_lowercase(LogSource value, string json) => RoundTrips(value, json);

    [Fact]
    public void Rlimit_resources_use_variant_names_on_the_wire_and_lowercase_for_the_guest()
    {
        foreach (var resource in Enum.GetValues<RlimitResource>())
        {
            RoundTrips(resource, $"\"{resource}\"");
            Assert.Equal(resource.ToString().ToLowerInvariant(), resource.AsStr());
            Assert.Equal(resource, RlimitResourceExtensions.Parse(resource.AsStr().ToUpperInvariant()));
        }
    }

    [Fact]
    public void Strings_escape_like_serde_json()
    {
        string text = "\"\\/\b\f\n\r\t\u0000\u001f\u007f<>&'\u2028é😀";
        Assert.Equal("{\"key\":\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\u007f<>&'\u2028é😀\",\"value\":\"\"}", SpecJson.Serialize(new EnvVar(text, "")));
        Assert.Equal(text, SpecJson.Deserialize<EnvVar>(SpecJson.Serialize(new EnvVar(text, ""))).Key);
    }

    [Fact]
    public void Map_keys_sort_by_utf8_bytes_not_utf16_units()
    {
        var labels = new Dictionary<string, string> { ["😀"] = "1", ["\uffff"] = "2", ["b"] = "3", ["B"] = "4", [""] = "5" };
        string json = SpecJson.Serialize(new SandboxSpec { Labels = labels });
        Assert.Contains("\"labels\":{\"\":\"5\",\"B\":\"4\",\"b\":\"3\",\"\uffff\":\"2\",\"😀\":\"1\"}", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(-0.0, "-0.0")]
    [InlineData(0.1, "0.1")]
    [InlineData(123.456, "123.456")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(1e16, "1e16")]
    [InlineData(1.5e16, "1.5e16")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "0.00001")]
    [InlineData(0.000001, "1e-6")]
    [InlineData(1.25e-7, "1.25e-7")]
    [InlineData(double.MaxValue, "1.7976931348623157e308")]
    [InlineData(double.Epsilon, "5e-324")]
    public void Doubles_format_like_rust_ryu(double value, string expected) =>
        Assert.Equal(expected, JsonValueWriter.FormatDouble(value));

    [Fact]
    public void Options_bridge_system_text_json_to_the_serde_form()
    {
        var mount = new VolumeMount.Tmpfs { Guest = "/tmp", SizeMib = 16 };
        var envelope = new Dictionary<string, object> { ["mount"] = mount, ["policy"] = PullPolicy.Never };

        string json = JsonSerializer.Serialize(envelope, SpecJson.Options);

        Assert.Equal(
            "{\"mount\":{\"type\":\"Tmpfs\",\"guest\":\"/tmp\",\"size_mib\":16,\"options\":{\"readonly\":false,\"noexec\":false,\"nosuid\":false,\"nodev\":false}},\"policy\":\"Never\"}",
            json);
        var back = JsonSerializer.Deserialize<VolumeMount>(SpecJson.Serialize<VolumeMount>(mount), SpecJson.Options);
        Assert.Equal(mount, back);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<SandboxSpec>("""{"name":3}""", SpecJson.Options));
    }

    private static void RoundTrips<T>(T value, string json) where T : struct, Enum
    {
        Assert.Equal(json, SpecJson.Serialize(value));
        Assert.Equal(value, SpecJson.Deserialize<T>(json));
    }
}
