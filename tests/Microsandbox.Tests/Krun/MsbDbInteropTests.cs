using System.Diagnostics;
using System.Text.Json;
using Microsandbox.Engines;
using Microsandbox.Engines.Krun;
using Microsandbox.Runtime;
using Microsandbox.State;
using Microsandbox.Tests.State;
using Microsandbox.Tests.Vm;

namespace Microsandbox.Tests.Krun;

/// <summary>
/// One state catalog, two tools: sandboxes our SDK creates are seen and managed by the real <c>msb</c>, and sandboxes
/// <c>msb create</c> makes are listed by our <c>microsandbox ls</c>. The SDK side runs on every engine that works here
/// (QEMU on these CI hosts; libkrun where KVM works) and skips the others with the reason.
/// </summary>
public sealed class MsbDbInteropTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void RequireEngine(EngineKind engine)
    {
        if (engine == EngineKind.Krun)
        {
            if (KrunRuntime.Unavailable(KrunRuntime.Current, KvmProbe.Current) is { } why) Assert.Skip($"libkrun cannot run here: {why}");
            if (!File.Exists(BuiltinImages.BusyboxDisk)) Assert.Skip($"needs the built-in busybox disk at {BuiltinImages.BusyboxDisk}");
        }
        else
        {
            VmEnvironment.RequireVm();
        }
    }

    private async Task<JsonElement> MsbLsAsync(string msb, params string[] filters)
    {
        var (code, stdout, stderr) = await RealMsb.RunAsync(msb, VmEnvironment.Home, ["ls", "--format", "json", .. filters]);
        output.WriteLine($"msb ls --format json (exit {code}): {stdout} {stderr}");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.Clone();
    }

    private static JsonElement? Find(JsonElement list, string name)
    {
        var items = list.ValueKind == JsonValueKind.Array ? list : list.GetProperty("sandboxes");
        foreach (var item in items.EnumerateArray())
        {
            if (item.TryGetProperty("name", out var n) && n.GetString() == name) return item;
        }
        return null;
    }

    [Theory]
    [InlineData(EngineKind.Qemu)]
    [InlineData(EngineKind.Krun)]
    public async Task Msb_lists_stops_and_removes_a_sandbox_created_through_our_api(EngineKind engine)
    {
        var msb = await RealMsb.RequireAsync();
        RequireEngine(engine);
        var name = VmEnvironment.UniqueName("msbls");
        var options = VmEnvironment.Options(output) with { Engine = engine };
        await using var sandbox = await Sandbox.CreateAsync(
            new SandboxBuilder(name).Image(BuiltinImages.Busybox).Label("team", "interop").Label("engine", engine.ToString()), options, Ct);
        Assert.Equal(engine == EngineKind.Krun ? "krun" : "qemu", sandbox.EngineName);

        var listed = Find(await MsbLsAsync(msb), name);
        Assert.True(listed.HasValue, $"msb ls does not list {name}");
        Assert.Equal("running", listed.Value.GetProperty("status").GetString()!.ToLowerInvariant());
        // msb's JSON listing has no labels column; its label filter reads the labels we wrote.
        Assert.True(Find(await MsbLsAsync(msb, "--label", "team=interop", "--label", $"engine={engine}"), name).HasValue,
            "msb ls --label does not match the labels our API wrote");
        Assert.False(Find(await MsbLsAsync(msb, "--label", "team=someone-else"), name).HasValue);
        var (inspectCode, inspect, inspectErr) = await RealMsb.RunAsync(msb, VmEnvironment.Home, "inspect", name, "--format", "json");
        output.WriteLine($"msb inspect (exit {inspectCode}): {inspect} {inspectErr}");
        Assert.True(inspectCode == 0, inspectErr);
        Assert.Contains("interop", inspect, StringComparison.Ordinal);

        var (stopCode, stopOut, stopErr) = await RealMsb.RunAsync(msb, VmEnvironment.Home, "stop", name);
        output.WriteLine($"msb stop (exit {stopCode}): {stopOut} {stopErr}");
        Assert.True(stopCode == 0, $"msb stop failed: {stopErr}");
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            deadline.CancelAfter(TimeSpan.FromSeconds(30));
            await sandbox.WaitForExitAsync(deadline.Token);
        }
        Assert.False(sandbox.IsRunning);
        var afterStop = Find(await MsbLsAsync(msb), name);
        Assert.True(afterStop.HasValue);
        Assert.Equal("stopped", afterStop.Value.GetProperty("status").GetString()!.ToLowerInvariant());

        var (rmCode, rmOut, rmErr) = await RealMsb.RunAsync(msb, VmEnvironment.Home, "rm", name);
        output.WriteLine($"msb rm (exit {rmCode}): {rmOut} {rmErr}");
        Assert.True(rmCode == 0, $"msb rm failed: {rmErr}");
        Assert.Null(Find(await MsbLsAsync(msb), name));
        await using var store = await StateStore.OpenAsync(VmEnvironment.Home, Ct);
        Assert.Null(await store.GetSandboxAsync(name, Ct));
    }

    private static string? Label(JsonElement labels, string key)
    {
        if (labels.ValueKind == JsonValueKind.Object) return labels.TryGetProperty(key, out var v) ? v.GetString() : null;
        foreach (var pair in labels.EnumerateArray())
        {
            if (pair.ValueKind == JsonValueKind.Array && pair[0].GetString() == key) return pair[1].GetString();
            if (pair.ValueKind == JsonValueKind.Object && pair.TryGetProperty("key", out var k) && k.GetString() == key) return pair.GetProperty("value").GetString();
            if (pair.ValueKind == JsonValueKind.String && pair.GetString()!.StartsWith(key + "=", StringComparison.Ordinal)) return pair.GetString()![(key.Length + 1)..];
        }
        return null;
    }

    [Fact]
    public async Task Our_ls_lists_a_sandbox_made_by_msb_create()
    {
        var msb = await RealMsb.RequireAsync();
        using var home = new TempHome();
        var rootfs = Directory.CreateDirectory(Path.Combine(home.Path, "rootfs")).FullName;
        try
        {
            // Without usable KVM msb boots as far as "entering VM" and stops; either way its rows are written.
            var (code, stdout, stderr) = await RealMsb.RunAsync(msb, home.Path, "create", rootfs, "--name", "made-by-msb", "--label", "team=qa");
            output.WriteLine($"msb create (exit {code}): {stdout} {stderr}");

            var (lsCode, lsOut, lsErr) = await RunOurCliAsync(home.Path, "ls", "--format", "json");
            output.WriteLine($"microsandbox ls: {lsOut} {lsErr}");
            Assert.True(lsCode == 0, lsErr);
            using var doc = JsonDocument.Parse(lsOut);
            var item = Assert.Single(doc.RootElement.EnumerateArray(), e => e.GetProperty("name").GetString() == "made-by-msb");
            Assert.Equal("qa", item.GetProperty("labels").GetProperty("team").GetString());
            Assert.False(item.GetProperty("ephemeral").GetBoolean());

            var (tableCode, table, _) = await RunOurCliAsync(home.Path, "ls");
            Assert.Equal(0, tableCode);
            Assert.Contains(table.Split('\n'), l => l.StartsWith("made-by-msb ", StringComparison.Ordinal) && l.Contains("team=qa", StringComparison.Ordinal));
        }
        finally
        {
            await RealMsb.RunAsync(msb, home.Path, "rm", "--force", "made-by-msb");
        }
    }

    /// <summary>Runs our CLI as a child process with <c>MSB_HOME</c> set (its commands read the state directory from there).</summary>
    private static async Task<(int Code, string Stdout, string Stderr)> RunOurCliAsync(string home, params string[] args)
    {
        var program = SandboxProcessLocator.Locate();
        var psi = new ProcessStartInfo(program[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in program.Skip(1).Concat(args)) psi.ArgumentList.Add(a);
        psi.Environment["MSB_HOME"] = home;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return (process.ExitCode, await stdout, await stderr);
    }
}
