using System.Text;
using Microsandbox.Cli;

// Specs are printed as serde writes them: UTF-8, whatever the locale says.
Console.OutputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
return CliApp.Run(args, Console.Out, Console.Error);
