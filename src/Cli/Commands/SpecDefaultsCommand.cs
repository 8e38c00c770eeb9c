using System.CommandLine;
using Microsandbox.Config;
using Microsandbox.Spec;

namespace Microsandbox.Cli.Commands;

/// <summary>
/// <c>microsandbox spec defaults FILE</c>: reads and checks a spec like <c>spec validate</c>, then prints it after
/// the config defaults that need no image (OCI upper size, the default <c>/tmp</c> tmpfs), in serde's compact form.
/// </summary>
public static class SpecDefaultsCommand
{
    /// <summary>Builds the <c>defaults</c> command.</summary>
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "Path of the spec JSON file." };
        var command = new Command("defaults", "Print a spec file after the sandbox config defaults are applied (serde's compact form).") { file };
        command.SetAction(parseResult =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            var spec = SpecFileReader.Read(parseResult.GetValue(file)!, stderr);
            if (spec is null) return ExitCodes.InvalidInput;
            stdout.WriteLine(SpecJson.Serialize(SandboxConfig.ApplyDefaults(spec)));
            return ExitCodes.Success;
        });
        return command;
    }
}
