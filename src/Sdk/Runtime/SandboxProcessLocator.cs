using System.Runtime.InteropServices;

namespace Microsandbox.Runtime;

/// <summary>
/// Finds our sandbox process: the <c>microsandbox</c> CLI (its <c>sandbox</c> command is the QEMU counterpart of
/// <c>msb sandbox</c>), run by the same .NET host as this process.
/// </summary>
public static class SandboxProcessLocator
{
    /// <summary>Environment variable naming <c>Microsandbox.Cli.dll</c> explicitly.</summary>
    public const string EnvironmentVariable = "MSB_SANDBOX_PROCESS";

    /// <summary>The program and leading arguments, e.g. <c>[/usr/share/dotnet/dotnet, /app/Microsandbox.Cli.dll]</c>.</summary>
    public static IReadOnlyList<string> Locate()
    {
        var dll = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(dll))
        {
            foreach (var dir in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(SandboxProcessLocator).Assembly.Location) ?? "" })
            {
                var candidate = Path.Combine(dir, "Microsandbox.Cli.dll");
                if (File.Exists(candidate))
                {
                    dll = candidate;
                    break;
                }
            }
        }
        if (string.IsNullOrEmpty(dll) || !File.Exists(dll))
            throw new MicrosandboxException(
                $"the QEMU sandbox process (Microsandbox.Cli.dll) was not found next to {AppContext.BaseDirectory}; reference the Microsandbox.Cli project/package or set {EnvironmentVariable}");
        return [DotnetHost(), Path.GetFullPath(dll)];
    }

    /// <summary>The <c>dotnet</c> executable running this process.</summary>
    public static string DotnetHost()
    {
        var fromEnv = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv)) return fromEnv;
        var process = Environment.ProcessPath;
        if (process is not null && Path.GetFileName(process) == "dotnet") return process;
        // <root>/shared/Microsoft.NETCore.App/<version>/ → <root>/dotnet
        var runtimeDir = RuntimeEnvironment.GetRuntimeDirectory();
        var root = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", ".."));
        var candidate = Path.Combine(root, "dotnet");
        if (File.Exists(candidate)) return candidate;
        return Engines.Qemu.QemuAssets.FindOnPath("dotnet") ?? throw new MicrosandboxException("the dotnet host was not found (set DOTNET_HOST_PATH)");
    }
}
