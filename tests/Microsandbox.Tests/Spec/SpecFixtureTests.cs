using System.Reflection;
using Microsandbox.Spec;

namespace Microsandbox.Tests.Spec;

/// <summary>
/// Every valid fixture in <c>tests/fixtures/spec/</c> is serde's exact output for its value: reading it gives no
/// errors or warnings, writing the read value gives the same bytes, and writing the C#-built value gives them too.
/// The fixture's type is the file-name prefix (<c>VolumeMount.Bind.json</c> is a <see cref="VolumeMount"/>).
/// </summary>
public class SpecFixtureTests
{
    public static IEnumerable<object[]> ValidFixtures() => SpecFixtures.Names("", "*.json").Select(name => new object[] { name });

    [Theory]
    [MemberData(nameof(ValidFixtures))]
    public void Fixture_round_trips_byte_for_byte(string fixture)
    {
        string json = SpecFixtures.Read(fixture);
        var type = WireType(fixture);

        var (value, errors, warnings) = ReadAs(type, json);

        Assert.Empty(errors);
        Assert.Empty(warnings);
        Assert.IsAssignableFrom(type, value);
        Assert.Equal(json, SerializeAs(type, value!));
    }

    [Theory]
    [MemberData(nameof(ValidFixtures))]
    public void Fixture_is_what_the_csharp_value_serialises_to(string fixture)
    {
        Assert.True(SpecFixtureValues.ByFixture.TryGetValue(fixture, out var value), $"no C# value for {fixture}");
        Assert.Equal(SpecFixtures.Read(fixture), SerializeAs(WireType(fixture), value));
    }

    [Theory]
    [MemberData(nameof(ValidFixtures))]
    public void Reading_the_fixture_gives_a_value_equal_to_the_csharp_one(string fixture)
    {
        var (value, errors, _) = ReadAs(WireType(fixture), SpecFixtures.Read(fixture));

        Assert.Empty(errors);
        Assert.Equal(WithoutTransientFields(SpecFixtureValues.ByFixture[fixture]), value);
    }

    [Fact]
    public void Specs_with_equal_content_are_equal_and_different_content_is_not()
    {
        var full = (SandboxSpec)SpecFixtureValues.ByFixture["SandboxSpec.full.json"];
        var copy = SpecJson.Deserialize(SpecJson.Serialize(full));

        Assert.Equal(WithoutTransientFields(full), copy);
        Assert.Equal(WithoutTransientFields(full).GetHashCode(), copy.GetHashCode());
        Assert.NotEqual(copy, copy with { Env = [.. copy.Env, new EnvVar("X", "1")] });
        Assert.NotEqual(copy, copy with { Patches = [new Patch.File { Path = "/opt/blob.bin", Content = new byte[] { 9 } }] });
        Assert.NotEqual(copy, copy with { Network = copy.Network with { Dns = null } });
        Assert.NotEqual(copy, copy with { Runtime = copy.Runtime with { Cmd = ["other"] } });
    }

    [Fact]
    public void Every_variant_of_every_family_has_a_fixture()
    {
        var covered = SpecFixtures.Names("", "*.json").Select(name => name.Split('.')[0] + "." + name.Split('.')[1].Split('-')[0]).ToHashSet();
        var families = new[] { typeof(RootfsSource), typeof(VolumeMount), typeof(Patch), typeof(SnapshotDestination) };
        foreach (var family in families)
        {
            foreach (var variant in family.GetNestedTypes().Where(t => t.IsSubclassOf(family)))
                Assert.Contains($"{family.Name}.{variant.Name}", covered);
        }
    }

    [Fact]
    public void Full_spec_fixture_reads_into_the_expected_values()
    {
        var spec = SpecJson.Deserialize(SpecFixtures.Read("SandboxSpec.full.json"));

        Assert.Equal("web-1", spec.Name);
        Assert.Equal("python:3.12-slim", spec.Image.OciReference);
        Assert.Equal(4096u, spec.Image.OciUpperSizeMib);
        Assert.Equal((byte)4, spec.Resources.Cpus);
        Assert.Equal(["build", "start"], spec.Runtime.Scripts.Keys);
        Assert.Equal(SandboxLogLevel.Debug, spec.Runtime.LogLevel);
        Assert.Equal("a=b \"quoted\"\ttab", spec.Env[1].Value);
        Assert.Equal(ulong.MaxValue, spec.Rlimits[1].Hard);
        var bind = Assert.IsType<VolumeMount.Bind>(spec.Mounts[0]);
        Assert.True(bind.Options.Readonly);
        Assert.Equal(HostPermissions.Mirror, bind.HostPermissions);
        var named = Assert.IsType<VolumeMount.Named>(spec.Mounts[1]);
        Assert.Null(named.Create);
        Assert.Equal([0, 1, 127, 128, 255], Assert.IsType<Patch.File>(spec.Patches[1]).Content.ToArray());
        Assert.Equal(PortProtocol.Udp, spec.Network.Ports[1].Protocol);
        Assert.Equal(1400, spec.Network.Interface!.Value.GetProperty("mtu").GetInt32());
        Assert.Equal(("container", "microsandbox"), spec.Init!.Env[0]);
        Assert.Equal(SecurityProfile.Restricted, spec.SecurityProfile);
        Assert.True(spec.Lifecycle.Ephemeral);
    }

    /// <summary>Named-volume <c>create</c> is never persisted, so a read value has none.</summary>
    private static object WithoutTransientFields(object value) => value switch
    {
        SandboxSpec spec => spec with { Mounts = spec.Mounts.Select(m => m is VolumeMount.Named n ? n with { Create = null } : m).ToArray() },
        VolumeMount.Named named => named with { Create = null },
        _ => value,
    };

    private static Type WireType(string fixture) =>
        typeof(SandboxSpec).Assembly.GetType("Microsandbox.Spec." + fixture.Split('.')[0], throwOnError: true)!;

    private static (object? Value, IReadOnlyList<SpecProblem> Errors, IReadOnlyList<SpecProblem> Warnings) ReadAs(Type type, string json)
    {
        var read = typeof(SpecJson).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Single(m => m.Name == nameof(SpecJson.Read) && m.IsGenericMethodDefinition)
            .MakeGenericMethod(type);
        object result = read.Invoke(null, [json])!;
        object? Property(string name) => result.GetType().GetProperty(name)!.GetValue(result);
        return (Property("Value"), (IReadOnlyList<SpecProblem>)Property("Errors")!, (IReadOnlyList<SpecProblem>)Property("Warnings")!);
    }

    private static string SerializeAs(Type type, object value)
    {
        var serialize = typeof(SpecJson).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Single(m => m.Name == nameof(SpecJson.Serialize) && m.IsGenericMethodDefinition)
            .MakeGenericMethod(type);
        return (string)serialize.Invoke(null, [value])!;
    }
}
