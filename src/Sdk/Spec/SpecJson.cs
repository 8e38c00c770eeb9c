using System.Text.Json;
using Microsandbox.Spec.Json;

namespace Microsandbox.Spec;

/// <summary>
/// Reads and writes the spec types exactly as upstream's serde does: <see cref="Serialize(SandboxSpec)"/> returns the
/// bytes <c>serde_json::to_string</c> would, and reading applies serde's defaults, ignores unknown fields (reported as
/// warnings) and rejects wrong types, out-of-range numbers and missing required fields with their JSON path.
/// </summary>
public static class SpecJson
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 128 };

    /// <summary>
    /// Serializer options whose converters give every spec type its serde form, for callers that embed specs in
    /// larger System.Text.Json documents. Reading through them throws <see cref="JsonException"/> on errors and drops warnings.
    /// </summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>Returns the compact JSON of a sandbox spec, byte for byte as serde_json writes it.</summary>
    public static string Serialize(SandboxSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return SpecJsonWriter.Write(spec);
    }

    /// <summary>Returns the compact serde JSON of any spec type (records, variants and wire enums of this namespace).</summary>
    /// <exception cref="ArgumentException">The value is not a spec wire type.</exception>
    public static string Serialize<T>(T value) where T : notnull
    {
        ArgumentNullException.ThrowIfNull(value);
        return SpecJsonWriter.Write(value);
    }

    /// <summary>Reads a sandbox spec.</summary>
    /// <exception cref="SpecJsonException">The JSON is malformed or breaks a rule; every problem is listed.</exception>
    public static SandboxSpec Deserialize(string json) => Deserialize<SandboxSpec>(json);

    /// <summary>Reads any spec type (use the abstract type, such as <see cref="VolumeMount"/>, for variant families).</summary>
    /// <exception cref="SpecJsonException">The JSON is malformed or breaks a rule; every problem is listed.</exception>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is not a spec wire type.</exception>
    public static T Deserialize<T>(string json) where T : notnull
    {
        var result = Read<T>(json);
        return result.IsValid ? result.Value! : throw new SpecJsonException(result.Errors);
    }

    /// <summary>Reads a sandbox spec, returning it with every error and warning instead of throwing.</summary>
    public static SpecReadResult<SandboxSpec> Read(string json) => Read<SandboxSpec>(json);

    /// <summary>Reads any spec type, returning it with every error and warning instead of throwing.</summary>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is not a spec wire type.</exception>
    public static SpecReadResult<T> Read<T>(string json) where T : notnull
    {
        ArgumentNullException.ThrowIfNull(json);
        if (!SpecJsonReader.Supports(typeof(T)))
            throw new ArgumentException($"{typeof(T).FullName} is not a Microsandbox.Spec wire type", nameof(T));
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException ex)
        {
            return new SpecReadResult<T> { Errors = [SyntaxProblem(ex)] };
        }
        using (document)
        {
            var reader = new SpecJsonReader();
            var value = (T)reader.Read(typeof(T), document.RootElement);
            return new SpecReadResult<T>
            {
                Value = reader.Errors.Count == 0 ? value : default,
                Errors = reader.Errors,
                Warnings = reader.Warnings,
            };
        }
    }

    private static SpecProblem SyntaxProblem(JsonException ex)
    {
        // System.Text.Json appends its own position details; restate them 1-based and drop the rest.
        string message = ex.Message;
        int details = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (details < 0) details = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (details >= 0) message = message[..details];
        // Drop advice that only makes sense to System.Text.Json callers.
        foreach (string advice in new[] { " Change the reader options", ", when isFinalBlock is true" })
        {
            int at = message.IndexOf(advice, StringComparison.Ordinal);
            if (at >= 0) message = message[..at];
        }
        string where = ex.LineNumber is { } line && ex.BytePositionInLine is { } column
            ? $" at line {line + 1}, column {column + 1}"
            : "";
        return new SpecProblem(JsonPath.Root, $"invalid JSON{where}: {message.TrimEnd('.')}");
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions { MaxDepth = 128 };
        options.Converters.Add(new SpecJsonConverterFactory());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
