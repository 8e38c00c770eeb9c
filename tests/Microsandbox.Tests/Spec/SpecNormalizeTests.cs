using Microsandbox.Spec;

namespace Microsandbox.Tests.Spec;

/// <summary>
/// Non-canonical inputs (missing fields, legacy <c>readonly</c>, escapes, opaque values with unsorted keys and odd
/// numbers, unknown fields) read with serde's defaults and write back as <c>NAME.expected.json</c>.
/// </summary>
public class SpecNormalizeTests
{
    public static IEnumerable<object[]> Cases() =>
        SpecFixtures.Names("normalize", "*.input.json").Select(name => new object[] { name[..^".input.json".Length] });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Input_reads_and_writes_back_as_serde_would(string name)
    {
        var result = SpecJson.Read(SpecFixtures.Read($"normalize/{name}.input.json"));

        Assert.Empty(result.Errors);
        Assert.Equal(SpecFixtures.Read($"normalize/{name}.expected.json"), SpecJson.Serialize(result.Value!));
    }

    [Fact]
    public void Unknown_fields_are_ignored_with_one_warning_each()
    {
        var result = SpecJson.Read(SpecFixtures.Read("normalize/unknown-fields.input.json"));

        Assert.True(result.IsValid);
        Assert.Equal(
            [
                "$.image.Oci.digest: unknown field, ignored",
                "$.resources.gpus: unknown field, ignored",
                "$.mounts[0].create: unknown field, ignored",
                "$.future_field: unknown field, ignored",
            ],
            result.Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void Missing_metrics_interval_defaults_but_explicit_null_disables()
    {
        Assert.Equal(1000UL, SpecJson.Deserialize("""{"runtime":{}}""").Runtime.MetricsSampleIntervalMs);
        Assert.Null(SpecJson.Deserialize("""{"runtime":{"metrics_sample_interval_ms":null}}""").Runtime.MetricsSampleIntervalMs);
    }

    [Fact]
    public void Options_object_wins_over_legacy_readonly_flag()
    {
        var spec = SpecJson.Deserialize("""{"mounts":[{"type":"Tmpfs","guest":"/t","readonly":true,"options":{"nodev":true}}]}""");
        var options = spec.Mounts[0].Options;
        Assert.False(options.Readonly);
        Assert.True(options.Nodev);
    }

    [Fact]
    public void Null_opaque_network_value_is_absent_and_omitted()
    {
        var spec = SpecJson.Deserialize("""{"network":{"dns":null}}""");
        Assert.Null(spec.Network.Dns);
        Assert.DoesNotContain("\"dns\"", SpecJson.Serialize(spec), StringComparison.Ordinal);
    }
}
