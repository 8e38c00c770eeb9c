using System.Diagnostics;
using Microsandbox.Host;

namespace Microsandbox.Tests.State;

/// <summary>Access to the real upstream binary for interop tests; skips (with the reason) when it is not installed.</summary>
internal static class RealMsb
{
    private static readonly Lazy<Task<MsbLocation>> Location = new(() => MsbLocator.LocateAsync());

    public static async Task<string> RequireAsync()
    {
        var location = await Location.Value;
        if (location.MsbPath is null || location.Version is null)
        {
            Assert.Skip($"needs the real msb {MicrosandboxDefaults.RuntimeVersion}: {location.Reason}");
        }

        if (!location.IsPinnedVersion)
        {
            Assert.Skip($"needs msb {MicrosandboxDefaults.RuntimeVersion} but found {location.Version} at {location.MsbPath}");
        }

        return location.MsbPath!;
    }

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string msb, string home, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(msb)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["MSB_HOME"] = home;
        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"msb {string.Join(' ', arguments)} did not finish");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
