using System.Text;
using Microsandbox.Cli;
using Microsandbox.Runtime;

// `sandbox …` is the QEMU sandbox process the SDK starts for every VM: straight to it, past the command-line parser,
// because its start-up time is part of every boot.
if (args is ["sandbox", ..]) return SandboxProcess.Run(args[1..]);

// Specs are printed as serde writes them: UTF-8, whatever the locale says.
Console.OutputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
return CliApp.Run(args, Console.Out, Console.Error);
