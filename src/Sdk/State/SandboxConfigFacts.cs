using System.Text.Json;

namespace Microsandbox.State;

/// <summary>
/// The columns msb denormalizes from a sandbox's config JSON: the <c>labels</c> map (into
/// <c>sandbox_labels</c>) and <c>lifecycle.ephemeral</c> (into <c>sandbox.ephemeral</c>). Deriving them here,
/// rather than taking them as separate arguments, keeps the row and its config from disagreeing; msb's own
/// label-rebuild migration would otherwise "correct" the labels from the config later.
/// </summary>
internal sealed record SandboxConfigFacts(IReadOnlyDictionary<string, string> Labels, bool Ephemeral)
{
    public static SandboxConfigFacts Read(string configJson, string expectedName)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(configJson);
        }
        catch (JsonException exception)
        {
            throw new ArgumentException($"configJson must be the sandbox config as JSON: {exception.Message}", nameof(configJson), exception);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException("configJson must be a JSON object (upstream's SandboxConfig)", nameof(configJson));
            }

            if (root.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String &&
                !string.Equals(name.GetString(), expectedName, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"configJson names sandbox '{name.GetString()}' but the row is for '{expectedName}'; they must match", nameof(configJson));
            }

            var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("labels", out var labelsElement) && labelsElement.ValueKind != JsonValueKind.Null)
            {
                if (labelsElement.ValueKind != JsonValueKind.Object)
                {
                    throw new ArgumentException("configJson.labels must be an object of string values", nameof(configJson));
                }

                foreach (var label in labelsElement.EnumerateObject())
                {
                    if (label.Value.ValueKind != JsonValueKind.String)
                    {
                        throw new ArgumentException($"configJson.labels.{label.Name} must be a string", nameof(configJson));
                    }

                    labels[label.Name] = label.Value.GetString()!;
                }
            }

            var ephemeral = false;
            if (root.TryGetProperty("lifecycle", out var lifecycle) && lifecycle.ValueKind == JsonValueKind.Object &&
                lifecycle.TryGetProperty("ephemeral", out var ephemeralElement))
            {
                ephemeral = ephemeralElement.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False or JsonValueKind.Null => false,
                    _ => throw new ArgumentException("configJson.lifecycle.ephemeral must be a boolean", nameof(configJson)),
                };
            }

            return new SandboxConfigFacts(labels, ephemeral);
        }
    }
}
