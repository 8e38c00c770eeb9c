using System.Text.Json;
using Microsandbox.Cli;
using Microsandbox.Engines.Qemu;
using Microsandbox.Host;

namespace Microsandbox.Tests.Krun;

/// <summary><c>microsandbox doctor</c>, run in-process through <see cref="CliApp.Run"/> with captured output.</summary>
public sealed class DoctorCommandTests(ITestOutputHelper output)
{
    private (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = CliApp.Run(args, stdout, stderr);
        output.WriteLine(stdout.ToString());
        output.WriteLine(stderr.ToString());
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Doctor_reports_both_engines_and_exits_0_exactly_when_one_can_run()
    {
        var (code, stdout, stderr) = Run("doctor");

        Assert.Equal("", stderr);
        var lines = stdout.Split('\n');
        var krun = Assert.Single(lines, l => l.StartsWith("krun: ", StringComparison.Ordinal));
        var qemu = Assert.Single(lines, l => l.StartsWith("qemu: ", StringComparison.Ordinal));
        bool anyCanRun = krun.EndsWith("can run", StringComparison.Ordinal) && !krun.Contains("cannot", StringComparison.Ordinal)
                         || qemu.EndsWith("can run", StringComparison.Ordinal) && !qemu.Contains("cannot", StringComparison.Ordinal);
        Assert.Equal(anyCanRun ? ExitCodes.Success : ExitCodes.Failure, code);
        foreach (var name in new[] { "msb found", "/dev/kvm", "CPU virtualisation flag", "KVM probe", "QEMU found", "kernel cached", "initrd cached", "rootfs cached" })
            Assert.Contains(lines, l => l.Contains($"] {name}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Auto uses ", StringComparison.Ordinal) || l.StartsWith("no engine can run", StringComparison.Ordinal));
    }

    [Fact]
    public void Doctor_names_the_missing_cpu_flag_with_its_fix_on_hosts_without_vt_x()
    {
        if (HostCpu.HasVirtualizationExtensions()) Assert.Skip("this CPU has vmx/svm; the missing-flag report cannot occur here");

        var (_, stdout, _) = Run("doctor");

        var lines = stdout.Split('\n');
        int flag = Array.FindIndex(lines, l => l.Contains("[NO ] CPU virtualisation flag", StringComparison.Ordinal));
        Assert.True(flag >= 0, "no failed CPU flag line");
        Assert.Contains("VT-x", lines[flag], StringComparison.Ordinal);
        Assert.StartsWith("        fix: ", lines[flag + 1], StringComparison.Ordinal);
        Assert.Contains(lines, l => l == "krun: cannot run");
        Assert.Contains(lines, l => l.Contains("Auto uses qemu", StringComparison.Ordinal) || l.StartsWith("no engine can run", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Doctor_reports_the_installed_msb_version()
    {
        var location = await MsbLocator.LocateAsync(TestContext.Current.CancellationToken);
        if (location.MsbPath is null) Assert.Skip($"msb is not installed: {location.Reason}");

        var (_, stdout, _) = Run("doctor", "--msb", location.MsbPath);

        Assert.Contains($"[yes] msb found: {location.MsbPath} (via MSB_PATH)", stdout, StringComparison.Ordinal);
        Assert.Contains($"] msb version: {location.Version}", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Doctor_exits_1_with_reasons_and_fixes_when_nothing_is_installed()
    {
        var empty = Directory.CreateTempSubdirectory("msbdoc-").FullName;
        try
        {
            var missingMsb = Path.Combine(empty, "no-such-msb");
            var (code, stdout, _) = Run("doctor", "--msb", missingMsb, "--qemu-assets", empty);

            Assert.Equal(ExitCodes.Failure, code);
            var lines = stdout.Split('\n');
            Assert.Contains("krun: cannot run", lines);
            Assert.Contains("qemu: cannot run", lines);
            int msb = Array.FindIndex(lines, l => l.StartsWith("  [NO ] msb found:", StringComparison.Ordinal));
            Assert.True(msb >= 0);
            Assert.Contains($"MSB_PATH is set to {missingMsb}", lines[msb], StringComparison.Ordinal);
            Assert.StartsWith("        fix: dotnet add package Microsandbox.Krun.linux-x64, or npm install -g microsandbox@0.6.18 @superradcompany/microsandbox-", lines[msb + 1], StringComparison.Ordinal);
            int kernel = Array.FindIndex(lines, l => l.StartsWith("  [NO ] kernel cached:", StringComparison.Ordinal));
            Assert.True(kernel >= 0);
            Assert.Contains(Path.Combine(empty, "vmlinux"), lines[kernel], StringComparison.Ordinal);
            Assert.Contains("--qemu-assets", lines[kernel + 1], StringComparison.Ordinal);
            Assert.DoesNotContain("./build.sh", stdout, StringComparison.Ordinal);
            Assert.Contains("no engine can run here: fix one of the problems above", lines);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public void Doctor_json_has_one_entry_per_engine_and_the_same_verdict_as_the_exit_code()
    {
        var (code, stdout, _) = Run("doctor", "--format", "json");

        using var doc = JsonDocument.Parse(stdout);
        var engines = doc.RootElement.GetProperty("engines").EnumerateArray().ToList();
        Assert.Equal(["krun", "qemu"], engines.Select(e => e.GetProperty("engine").GetString()));
        bool canRun = doc.RootElement.GetProperty("can_run").GetBoolean();
        Assert.Equal(engines.Any(e => e.GetProperty("can_run").GetBoolean()), canRun);
        Assert.Equal(canRun ? ExitCodes.Success : ExitCodes.Failure, code);
        foreach (var check in engines.SelectMany(e => e.GetProperty("checks").EnumerateArray()))
        {
            if (!check.GetProperty("ok").GetBoolean() && check.GetProperty("required").GetBoolean())
                Assert.False(string.IsNullOrWhiteSpace(check.GetProperty("fix").GetString()), $"{check.GetProperty("name")} failed without a fix");
        }
        Assert.Equal(File.Exists(Path.Combine(QemuAssets.DefaultDirectory, "busybox.raw")),
            engines[1].GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "busybox image cached").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public void Doctor_finds_the_guest_assets_in_the_package_and_reports_where_they_were_unpacked()
    {
        var (_, stdout, _) = Run("doctor");
        var unpacked = AssetPackage.Guest.Directory(MicrosandboxHome.UserInstallRoot());
        Assert.NotNull(unpacked); // this test project references the SDK, which depends on the guest package
        Assert.Contains($"[yes] kernel cached: {Path.Combine(unpacked, "vmlinux")}", stdout, StringComparison.Ordinal);
        Assert.Contains($"[yes] initrd cached: {Path.Combine(unpacked, "initrd.cpio")}", stdout, StringComparison.Ordinal);
        Assert.True(AssetPackage.IsComplete(unpacked));
    }
}
