using System.Diagnostics;
using Microsandbox.Engines.Qemu;

namespace Microsandbox.Tests.Native;

/// <summary>
/// The guest agent's own suites, run from the .NET test command so CI covers them: the C codec unit tests (RFC 8949
/// vectors, upstream frame layout) and the boot smoke test that drives real guests with the C test client.
/// </summary>
public sealed class NativeAgentTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string RepoRoot()
    {
        if (RepositoryRoot.TryFind() is { } root) return root;
        Assert.Skip("the repository (native/ sources) is not above the test binaries");
        return "";
    }

    [Fact]
    public async Task Agent_codec_unit_tests_pass()
    {
        if (QemuAssets.FindOnPath("make") is null || QemuAssets.FindOnPath("gcc") is null) Assert.Skip("make/gcc are not installed (./build.sh Install)");
        var outDir = Directory.CreateTempSubdirectory("msb-native-unit-").FullName;
        try
        {
            var (code, text) = await RunAsync("make", ["-s", "-C", Path.Combine(RepoRoot(), "native", "agent"), "test", "OUT=" + outDir]);
            Assert.True(code == 0, text);
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public async Task Agent_smoke_test_drives_real_guests()
    {
        Vm.VmEnvironment.RequireVm();
        var (code, text) = await RunAsync("/bin/bash", [Path.Combine(RepoRoot(), "native", "test", "smoke.sh"), NativeOutputs.Directory]);
        Assert.True(code == 0, text);
    }

    private async Task<(int Code, string Output)> RunAsync(string program, string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(Ct);
        var stderr = p.StandardError.ReadToEndAsync(Ct);
        await p.WaitForExitAsync(Ct);
        var text = await stdout + await stderr;
        output.WriteLine(text);
        return (p.ExitCode, text);
    }
}
