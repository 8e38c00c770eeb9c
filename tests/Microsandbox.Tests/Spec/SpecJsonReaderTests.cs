using System.Text.Json;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Spec;

/// <summary>serde's acceptance rules for the types outside <see cref="SandboxSpec"/> and for odd inputs.</summary>
public class SpecJsonReaderTests
{
    private static IEnumerable<string> Errors<T>(string json) where T : notnull =>
        SpecJson.Read<T>(json).Errors.Select(e => e.ToString());

    [Fact]
    public void Volume_spec_requires_labels_but_not_the_optional_sizes()
    {
        Assert.Equal(["$.labels: missing required field"], Errors<VolumeSpec>("""{"name":"v","kind":"Disk"}"""));
        var volume = SpecJson.Deserialize<VolumeSpec>("""{"name":"v","kind":"Disk","labels":[]}""");
        Assert.Null(volume.QuotaMib);
        Assert.Null(volume.CapacityMib);
        Assert.Equal(VolumeKind.Disk, volume.Kind);
    }

    [Fact]
    public void Snapshot_spec_requires_every_field()
    {
        Assert.Equal(
            [
                "$.source_sandbox: missing required field",
                "$.destination: missing required field",
                "$.labels: missing required field",
                "$.force: missing required field",
                "$.record_integrity: missing required field",
            ],
            Errors<SnapshotSpec>("{}"));
    }

    [Fact]
    public void Env_var_and_rlimit_fields_are_required()
    {
        Assert.Equal(["$.value: missing required field"], Errors<EnvVar>("""{"key":"K"}"""));
        Assert.Equal(["$.hard: missing required field"], Errors<Rlimit>("""{"resource":"Cpu","soft":1}"""));
    }

    [Fact]
    public void Handoff_init_defaults_args_and_env_but_requires_cmd()
    {
        Assert.Equal(["$.cmd: missing required field"], Errors<HandoffInit>("""{"args":[]}"""));
        var init = SpecJson.Deserialize<HandoffInit>("""{"cmd":"auto"}""");
        Assert.Empty(init.Args);
        Assert.Empty(init.Env);
    }

    [Fact]
    public void Published_port_defaults_protocol_to_tcp()
    {
        var port = SpecJson.Deserialize<PublishedPortSpec>("""{"host_port":1,"guest_port":2,"host_bind":"::1"}""");
        Assert.Equal(PortProtocol.Tcp, port.Protocol);
    }

    [Fact]
    public void Named_volume_create_is_never_read_back()
    {
        var result = SpecJson.Read<VolumeMount>("""{"type":"Named","name":"n","guest":"/n","create":{"mode":"Create"}}""");
        Assert.True(result.IsValid);
        Assert.Null(result.Value!.NamedCreate);
        Assert.Equal(["$.create: unknown field, ignored"], result.Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void Null_for_a_required_or_defaulted_non_optional_field_is_a_type_error()
    {
        Assert.Equal(["$.name: expected a string"], Errors<SandboxSpec>("""{"name":null}"""));
        Assert.Equal(["$.resources: expected an object"], Errors<SandboxSpec>("""{"resources":null}"""));
        Assert.Equal(["$.enabled: expected a boolean (true or false)"], Errors<NetworkSpec>("""{"enabled":null}"""));
    }

    [Fact]
    public void Integers_written_as_floats_or_exponents_are_rejected_like_serde()
    {
        Assert.Equal(["$.cpus: expected an integer 0..255"], Errors<SandboxResources>("""{"cpus":2.0}"""));
        Assert.Equal(["$.cpus: expected an integer 0..255"], Errors<SandboxResources>("""{"cpus":2e0}"""));
        Assert.Equal(["$.cpus: expected an integer 0..255"], Errors<SandboxResources>("""{"cpus":-0}"""));
        Assert.Equal((byte)255, SpecJson.Deserialize<SandboxResources>("""{"cpus":255}""").Cpus);
    }

    [Fact]
    public void Externally_tagged_variant_needs_exactly_one_key()
    {
        Assert.Equal(
            ["$: expected an object with exactly one key, one of \"Name\", \"Path\""],
            Errors<SnapshotDestination>("""{"Name":"a","Path":"b"}"""));
        Assert.Equal(
            ["$: expected an object with exactly one key, one of \"Text\", \"File\", \"CopyFile\", \"CopyDir\", \"Symlink\", \"Mkdir\", \"Remove\", \"Append\""],
            Errors<Patch>("{}"));
    }

    [Fact]
    public void Unit_enums_read_from_their_wire_strings_only()
    {
        Assert.Equal(NamedVolumeMode.EnsureExists, SpecJson.Deserialize<NamedVolumeMode>("\"EnsureExists\""));
        Assert.Equal(LogSource.System, SpecJson.Deserialize<LogSource>("\"system\""));
        Assert.Equal(["$: unknown value \"System\", expected one of \"stdout\", \"stderr\", \"output\", \"system\""], Errors<LogSource>("\"System\""));
    }

    [Fact]
    public void Unpaired_surrogate_escape_is_an_error_not_a_crash()
    {
        var result = SpecJson.Read("""{"name":"\ud800"}""");
        Assert.False(result.IsValid);
        Assert.Equal("$.name", Assert.Single(result.Errors).Path);
    }

    [Fact]
    public void Nesting_deeper_than_serde_json_allows_is_a_syntax_error()
    {
        string deep = "{\"network\":{\"policy\":" + new string('[', 200) + new string(']', 200) + "}}";
        var problem = Assert.Single(SpecJson.Read(deep).Errors);
        Assert.Equal("$", problem.Path);
        Assert.StartsWith("invalid JSON", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_throws_with_every_problem()
    {
        var error = Assert.Throws<SpecJsonException>(() => SpecJson.Deserialize("""{"name":1,"resources":{"cpus":300}}"""));
        Assert.Equal(["$.name: expected a string", "$.resources.cpus: expected an integer 0..255"], error.Problems.Select(p => p.ToString()));
        Assert.IsAssignableFrom<MicrosandboxException>(error);
    }

    [Fact]
    public void Unsupported_type_is_refused()
    {
        Assert.Throws<ArgumentException>(() => SpecJson.Read<string>("\"x\""));
        Assert.Throws<ArgumentException>(() => SpecJson.Serialize(42));
    }

    [Fact]
    public void Values_read_survive_their_document()
    {
        var spec = SpecJson.Deserialize("""{"network":{"tls":{"b":1,"a":2}}}""");
        GC.Collect();
        Assert.Equal(JsonValueKind.Object, spec.Network.Tls!.Value.ValueKind);
        Assert.Contains("\"tls\":{\"a\":2,\"b\":1}", SpecJson.Serialize(spec), StringComparison.Ordinal);
    }
}
