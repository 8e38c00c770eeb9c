using System.CommandLine;
using Microsandbox.Spec;

namespace Microsandbox.Cli.Commands;

/// <summary>
/// <c>microsandbox spec validate FILE</c>: reads a spec as upstream would (defaults for missing fields, unknown
/// fields reported as warnings), checks upstream's pre-create rules, and prints the spec back with every field
/// present, byte for byte as serde writes it. Exit 0 when valid, 2 with one error line per problem otherwise.
/// </summary>
public static class SpecValidateCommand
{
    /// <summary>Builds the <c>validate</c> command.</summary>
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "Path of the spec JSON file." };
        var command = new Command("validate", "Validate a spec file and print it with every field present (serde's compact form).") { file };
        command.SetAction(parseResult =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            var spec = SpecFileReader.Read(parseResult.GetValue(file)!, stderr);
            if (spec is null) return ExitCodes.InvalidInput;
            stdout.WriteLine(SpecJson.Serialize(spec));
            return ExitCodes.Success;
        });
        return command;
    }
}
