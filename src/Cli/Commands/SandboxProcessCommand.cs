using System.CommandLine;
using Microsandbox.Runtime;

namespace Microsandbox.Cli.Commands;

/// <summary>
/// <c>microsandbox sandbox --name N --sandbox-id ID --vcpus C --memory-mib M --config-fd 96 --lifecycle-lock-fd 99
/// [--parent-watch-fd 97 | --startup-fd 98]</c>: the QEMU sandbox process, started by the SDK exactly as it starts
/// <c>msb sandbox</c>. Hidden: users never type it.
/// </summary>
public static class SandboxProcessCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var name = new Option<string>("--name") { Required = true, Description = "Sandbox name." };
        var id = new Option<int>("--sandbox-id") { Required = true, Description = "Sandbox row id." };
        var vcpus = new Option<int>("--vcpus") { DefaultValueFactory = _ => 1, Description = "Virtual CPUs." };
        var memory = new Option<int>("--memory-mib") { DefaultValueFactory = _ => 512, Description = "Guest memory in MiB." };
        var configFd = new Option<int?>("--config-fd") { Description = "Inherited fd holding the launch config JSON." };
        var configFile = new Option<string?>("--config-file") { Description = "File holding the launch config JSON." };
        var watchFd = new Option<int?>("--parent-watch-fd") { Description = "Creator watchdog pipe." };
        var startupFd = new Option<int?>("--startup-fd") { Description = "Where to report startup JSON." };
        var lockFd = new Option<int?>("--lifecycle-lock-fd") { Description = "The inherited lifecycle lock." };
        var levels = new[] { "error", "warn", "info", "debug", "trace" }
            .Select(l => new Option<bool>("--" + l) { Description = $"Log at {l} level." }).ToArray();
        var command = new Command("sandbox", "Run one sandbox's VM (internal: started by the SDK).") { Hidden = true };
        foreach (var o in new Option[] { name, id, vcpus, memory, configFd, configFile, watchFd, startupFd, lockFd }.Concat(levels))
            command.Add(o);
        command.SetAction(parse =>
        {
            var level = levels.FirstOrDefault(l => parse.GetValue(l))?.Name.TrimStart('-');
            var args = new SandboxProcessArgs(parse.GetValue(name)!, parse.GetValue(id), parse.GetValue(vcpus), parse.GetValue(memory),
                parse.GetValue(configFd), parse.GetValue(configFile), parse.GetValue(watchFd), parse.GetValue(startupFd), parse.GetValue(lockFd), level);
            return SandboxProcess.Run(args);
        });
        return command;
    }
}
