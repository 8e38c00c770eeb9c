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

    /// <summary>The output sub-folder in which the Microsandbox.Xunit packages place the sandbox process.</summary>
    public const string PackagedFolder = "microsandbox";

    /// <summary>The program and leading arguments, e.g. <c>[/usr/share/dotnet/dotnet, /app/Microsandbox.Cli.dll]</c>.</summary>
    public static IReadOnlyList<string> Locate()
    {
        var dll = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(dll))
        {
            var bases = new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(SandboxProcessLocator).Assembly.Location) ?? "" };
            // Next to the app (a project reference to Microsandbox.Cli, the MSBuild package), or in the folder of its
            // own that the Microsandbox.Xunit packages copy into the test output.
            dll = bases.SelectMany(dir => new[] { Path.Combine(dir, "Microsandbox.Cli.dll"), Path.Combine(dir, PackagedFolder, "Microsandbox.Cli.dll") })
                .FirstOrDefault(File.Exists);
        }
        if (string.IsNullOrEmpty(dll) || !File.Exists(dll))
            throw new MicrosandboxException(
                $"the QEMU sandbox process (Microsandbox.Cli.dll) was not found in {AppContext.BaseDirectory} or its {PackagedFolder}/ folder; reference the Microsandbox.Cli project, or a package that carries it (Microsandbox.Xunit, Microsandbox.MSBuild), or set {EnvironmentVariable}");
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
