using Microsandbox.Spec;

namespace Microsandbox.Cli.Commands;

/// <summary>
/// Reads a spec file for a command: on success returns the spec (after printing any warnings); otherwise prints
/// one <c>error: PATH: RULE</c> line per problem and returns <see langword="null"/>.
/// </summary>
internal static class SpecFileReader
{
    public static SandboxSpec? Read(string file, TextWriter stderr)
    {
        string json;
        try
        {
            json = File.ReadAllText(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            stderr.WriteLine($"error: {file}: cannot read file: {ex.Message}");
            return null;
        }

        var result = SpecJson.Read(json);
        foreach (var warning in result.Warnings) stderr.WriteLine($"warning: {warning}");
        var problems = result.IsValid ? SpecValidator.Validate(result.Value!) : result.Errors;
        foreach (var problem in problems) stderr.WriteLine($"error: {problem}");
        return problems.Count == 0 ? result.Value : null;
    }
}
