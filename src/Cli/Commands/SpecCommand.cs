using System.CommandLine;

namespace Microsandbox.Cli.Commands;

/// <summary><c>microsandbox spec ...</c>: work with sandbox spec files (upstream's <c>SandboxSpec</c> JSON).</summary>
public static class SpecCommand
{
    /// <summary>Builds the <c>spec</c> command and its subcommands.</summary>
    public static Command Create()
    {
        var spec = new Command("spec", "Work with sandbox spec JSON files (the upstream SandboxSpec wire format).");
        spec.Add(SpecValidateCommand.Create());
        spec.Add(SpecDefaultsCommand.Create());
        return spec;
    }
}
