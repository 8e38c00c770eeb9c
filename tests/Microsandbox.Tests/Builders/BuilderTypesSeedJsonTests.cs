using System.Text.Json;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Builders;

/// <summary>The three JSON <c>#[test]</c>s of the builder-types seed (microsandbox 0.5.4 <c>sandbox/types.rs</c>).</summary>
public class BuilderTypesSeedJsonTests
{
    [Fact]
    public void Volume_mount_json_uses_options_object()
    {
        var mount = new VolumeMount.Bind
        {
            Host = "/host/data",
            Guest = "/data",
            Options = new MountOptions { Readonly = true, Noexec = true },
            StatVirtualization = StatVirtualization.Strict,
            HostPermissions = HostPermissions.Private,
        };
        var json = SpecJson.Serialize<VolumeMount>(mount);
        using (var document = JsonDocument.Parse(json))
        {
            var value = document.RootElement;
            Assert.False(value.TryGetProperty("readonly", out _));
            Assert.False(value.TryGetProperty("noexec", out _));
            Assert.True(value.GetProperty("options").GetProperty("readonly").GetBoolean());
            Assert.True(value.GetProperty("options").GetProperty("noexec").GetBoolean());
        }
        var decoded = Assert.IsType<VolumeMount.Bind>(SpecJson.Deserialize<VolumeMount>(json));
        Assert.True(decoded.Options.Readonly);
        Assert.True(decoded.Options.Noexec);
    }

    [Fact]
    public void Volume_mount_json_accepts_legacy_readonly_field()
    {
        var bind = Assert.IsType<VolumeMount.Bind>(SpecJson.Deserialize<VolumeMount>(
            """{"type":"Bind","host":"/host/data","guest":"/data","readonly":true}"""));
        Assert.True(bind.Options.Readonly);
        Assert.False(bind.Options.Noexec);

        var named = Assert.IsType<VolumeMount.Named>(SpecJson.Deserialize<VolumeMount>(
            """{"type":"Named","name":"cache","guest":"/cache"}"""));
        Assert.Equal(new MountOptions(), named.Options);

        var tmpfs = Assert.IsType<VolumeMount.Tmpfs>(SpecJson.Deserialize<VolumeMount>(
            """{"type":"Tmpfs","guest":"/tmp","readonly":false}"""));
        Assert.Equal(new MountOptions(), tmpfs.Options);

        var disk = Assert.IsType<VolumeMount.DiskImage>(SpecJson.Deserialize<VolumeMount>(
            """{"type":"DiskImage","host":"/host/data.raw","guest":"/data","format":"Raw","readonly":true}"""));
        Assert.True(disk.Options.Readonly);
        Assert.False(disk.Options.Noexec);
    }

    [Fact]
    public void Mount_options_json_defaults_missing_fields()
    {
        var options = SpecJson.Deserialize<MountOptions>("""{"readonly":true}""");
        Assert.True(options.Readonly);
        Assert.False(options.Noexec);
    }
}
