using System.Text.Json;
using Microsandbox.Spec;
using Microsandbox.Spec.Json;

namespace Microsandbox.Config;

/// <summary>
/// The persisted JSON form of a <see cref="SandboxConfig"/>, as upstream's serde writes it: the spec's fields
/// flattened into one object, followed by <c>manifest_digest</c>. Credentials and operation flags are never written.
/// </summary>
internal static class SandboxConfigJson
{
    private const string ManifestDigestField = "manifest_digest";
    private const string RegistryAuthField = "registry_auth";

    public static string Write(SandboxConfig config)
    {
        var spec = SpecJson.Serialize(config.Spec);
        var digest = new SerdeJsonWriter();
        if (config.ManifestDigest is null)
        {
            digest.Null();
        }
        else
        {
            digest.String(config.ManifestDigest);
        }
        // A spec always serialises as a non-empty object, so the extra field goes before its closing brace.
        return $"{spec[..^1]},{JsonPath.Quote(ManifestDigestField)}:{digest}}}";
    }

    public static SpecReadResult<SandboxConfig> Read(string json)
    {
        var spec = SpecJson.Read<SandboxSpec>(json);
        var errors = spec.Errors.ToList();
        // The config's own fields sit beside the flattened spec fields; they are not unknown.
        var warnings = spec.Warnings
            .Where(w => w.Path != $"$.{ManifestDigestField}" && w.Path != $"$.{RegistryAuthField}")
            .ToList();
        string? manifestDigest = null;
        RegistryAuth? registryAuth = null;
        if (spec.IsValid)
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.TryGetProperty(ManifestDigestField, out var digest))
            {
                switch (digest.ValueKind)
                {
                    case JsonValueKind.String: manifestDigest = digest.GetString(); break;
                    case JsonValueKind.Null: break;
                    default: errors.Add(new SpecProblem($"$.{ManifestDigestField}", $"expected a string or null, found {Kind(digest)}")); break;
                }
            }
            if (root.TryGetProperty(RegistryAuthField, out var auth))
            {
                registryAuth = ReadAuth(auth, errors);
            }
        }
        if (errors.Count > 0)
        {
            return new SpecReadResult<SandboxConfig> { Errors = errors, Warnings = warnings };
        }
        return new SpecReadResult<SandboxConfig>
        {
            Value = new SandboxConfig { Spec = spec.Value!, ManifestDigest = manifestDigest, RegistryAuth = registryAuth },
            Warnings = warnings,
        };
    }

    // serde's default (externally tagged) form: "Anonymous" or {"Basic":{"username":...,"password":...}}.
    private static RegistryAuth? ReadAuth(JsonElement auth, List<SpecProblem> errors)
    {
        const string path = "$." + RegistryAuthField;
        switch (auth.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.String when auth.GetString() == "Anonymous":
                return RegistryAuth.Anonymous;
            case JsonValueKind.Object when auth.TryGetProperty("Basic", out var basic) && basic.ValueKind == JsonValueKind.Object
                && basic.TryGetProperty("username", out var user) && user.ValueKind == JsonValueKind.String
                && basic.TryGetProperty("password", out var password) && password.ValueKind == JsonValueKind.String:
                return RegistryAuth.Basic(user.GetString()!, password.GetString()!);
            default:
                errors.Add(new SpecProblem(path, "expected \"Anonymous\" or {\"Basic\":{\"username\":...,\"password\":...}}"));
                return null;
        }
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => e.ValueKind.ToString().ToLowerInvariant(),
    };
}
