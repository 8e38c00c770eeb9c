using Microsandbox.Config;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Builders;

public class SandboxBuilderJsonTests
{
    [Fact]
    public void From_spec_json_seeds_the_builder()
    {
        var config = SandboxBuilder.FromSpecJson("""{"name":"j","image":{"Oci":{"reference":"alpine"}},"resources":{"cpus":3}}""")
            .Memory(256).Build();
        Assert.Equal("j", config.Spec.Name);
        Assert.Equal("alpine", config.Spec.Image.OciReference);
        Assert.Equal(3, config.Spec.Resources.Cpus);
        Assert.Equal(256u, config.Spec.Resources.MemoryMib);
    }

    [Fact]
    public void From_spec_json_reports_the_json_path()
    {
        var error = Assert.Throws<InvalidConfigException>(() => SandboxBuilder.FromSpecJson("""{"resources":{"cpus":300}}"""));
        Assert.StartsWith("$.resources.cpus", error.Message);
    }

    [Fact]
    public void Built_spec_serialises_with_every_set_field()
    {
        var spec = new SandboxBuilder("full").Image("python:3.12").Cpus(2).Memory(1024).Workdir("/app").Shell("/bin/bash")
            .Script("setup", "echo hi").Entrypoint("python", "-u").Cmd("worker.py").Hostname("worker").User("appuser")
            .LogLevel(SandboxLogLevel.Trace).MetricsSampleInterval(TimeSpan.FromMilliseconds(750)).DisableMetricsSample()
            .Env("A", "B").Label("team", "infra").Rlimit(RlimitResource.Nofile, 1024)
            .Volume("/data", m => m.Bind("/srv").Readonly()).Patch(p => p.Mkdir("/x")).Port(8080, 80).Init("auto")
            .PullPolicy(PullPolicy.Never).Security(SecurityProfile.Restricted).Ephemeral().MaxDuration(60).IdleTimeout(30)
            .Build().Spec;
        var json = SpecJson.Serialize(spec);
        Assert.Equal(json, SpecJson.Serialize(SpecJson.Deserialize(json)));
        Assert.Contains("\"security_profile\":\"restricted\"", json);
        Assert.Contains("\"resources\":{\"cpus\":2,\"memory_mib\":1024}", json);
        Assert.Contains("\"init\":{\"cmd\":\"auto\",\"args\":[],\"env\":[]}", json);
        Assert.Contains("\"pull_policy\":\"Never\"", json);
        Assert.Contains("\"lifecycle\":{\"ephemeral\":true,\"max_duration_secs\":60,\"idle_timeout_secs\":30}", json);
    }

    [Fact]
    public void Apply_defaults_is_the_spec_defaults_entry_point()
    {
        var spec = SpecJson.Deserialize("""{"name":"d","image":{"Oci":{"reference":"alpine"}},"resources":{"memory_mib":1024}}""");
        var defaulted = SandboxConfig.ApplyDefaults(spec);
        Assert.Equal(4096u, defaulted.Image.OciUpperSizeMib);
        Assert.Equal(256u, Assert.IsType<VolumeMount.Tmpfs>(Assert.Single(defaulted.Mounts)).SizeMib);
        Assert.Contains("{\"Oci\":{\"reference\":\"alpine\",\"upper_size_mib\":4096}}", SpecJson.Serialize(defaulted));
    }
}
