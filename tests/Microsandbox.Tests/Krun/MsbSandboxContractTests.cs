using Microsandbox.Engines;
using Microsandbox.Engines.Krun;
using Microsandbox.Host;
using Microsandbox.Spawn;
using Microsandbox.Spec;
using Microsandbox.State;
using Microsandbox.Tests.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsandbox.Tests.Krun;

/// <summary>
/// The spawn contract proven against the real pinned <c>msb sandbox</c>: our argv and our launch config on fd 96,
/// started by our <see cref="SandboxSpawner"/>. On hosts without VT-x/AMD-V msb must get to "entering VM" and then
/// fail; our diagnosis must name the missing CPU virtualisation and nothing may be left behind.
/// </summary>
public sealed class MsbSandboxContractTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(SpawnMode.Attached)]
    [InlineData(SpawnMode.Detached)]
    public async Task Msb_sandbox_accepts_our_argv_and_launch_config_and_fails_cleanly_without_cpu_virtualisation(SpawnMode mode)
    {
        var msb = await RealMsb.RequireAsync();
        if (!File.Exists(BuiltinImages.BusyboxDisk)) Assert.Skip($"needs the built-in busybox disk at {BuiltinImages.BusyboxDisk} (./build.sh Native)");
        var kvm = KvmProbe.Current;
        if (kvm.Usable) Assert.Skip($"KVM works on this host ({kvm.Reason}): the failure path cannot occur; the libkrun integration tests cover booting");
        var location = await MsbLocator.LocateAsync(TestContext.Current.CancellationToken);
        Assert.True(location.IsUsable, location.Reason);

        using var temp = new TempHome();
        var home = new MicrosandboxHome(temp.Path);
        var ct = TestContext.Current.CancellationToken;
        // msb creates and migrates the catalog itself before we write to it.
        var (lsCode, _, lsErr) = await RealMsb.RunAsync(msb, home.Root, "ls", "--format", "json");
        Assert.True(lsCode == 0, lsErr);

        var name = "krun-contract-" + mode.ToString().ToLowerInvariant();
        var config = new SandboxBuilder(name).Image(BuiltinImages.Busybox).Build();
        var engine = new KrunEngine(location);
        var spec = engine.ResolveImage(config.WithDefaults().Spec);
        SandboxRecord record;
        await using (var store = await StateStore.OpenAsync(home.Root, ct))
            record = await store.InsertSandboxAsync(name, SpecJson.Serialize(config.Spec), SandboxStatus.Running, cancellationToken: ct);

        var launch = engine.Complete(LaunchPlanner.Plan(spec, (int)record.Id, home), spec);
        Assert.Equal(location.LibkrunfwPath, launch.LibkrunfwPath);
        Assert.Null(launch.Qemu);
        // The shared built-in disk is attached read-only, so its lock is shared; msb inherits it at fd 100.
        Assert.True(launch.Rootfs.DiskReadonly);
        using var diskLocks = DiskLocks.Acquire(spec, null, rootReadonly: launch.Rootfs.DiskReadonly);
        var request = new SandboxLaunchRequest(engine.SandboxProcessProgram, home, name, (int)record.Id,
            spec.Resources.Cpus, (int)spec.Resources.MemoryMib, launch, mode, "--debug",
            new Dictionary<string, string?> { ["MSB_HOME"] = home.Root }) { DiskLocks = diskLocks };
        output.WriteLine("argv: " + string.Join(' ', request.BuildArgv()));
        output.WriteLine("launch config: " + launch.ToJson());

        int? exitCode = null;
        int? pid = null;
        string? spawnError = null;
        try
        {
            using var spawned = await SandboxSpawner.SpawnAsync(request, NullLogger.Instance, ct);
            pid = spawned.Pid;
            output.WriteLine($"msb reported startup, pid {pid}");
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(TimeSpan.FromSeconds(60));
            exitCode = await spawned.WaitForExitAsync(deadline.Token);
        }
        catch (MicrosandboxException e)
        {
            // msb may also die before its startup line; the spawner then reports the exit.
            spawnError = e.Message;
            output.WriteLine("spawn error: " + spawnError);
        }

        var logDir = home.LogDirectory(name);
        var runtimeLog = KrunDiagnostics.RuntimeLogPath(logDir);
        output.WriteLine("runtime.log:\n" + (File.Exists(runtimeLog) ? await File.ReadAllTextAsync(runtimeLog, ct) : "(missing)"));
        Assert.True(KrunDiagnostics.ReachedVm(logDir), $"runtime.log does not say '{KrunDiagnostics.EnteringVmMarker}'; spawn error: {spawnError}");

        var explanation = KrunDiagnostics.Explain(logDir, exitCode, kvm);
        output.WriteLine("our error: " + explanation);
        // With /dev/kvm present the guest fails at its first instruction (KVM_EXIT_INTERNAL_ERROR) or, on some hosts,
        // a few instructions later without that line; without /dev/kvm libkrun cannot even open KVM.
        if (File.Exists("/dev/kvm"))
            Assert.True(explanation.Contains(KrunDiagnostics.KvmInternalErrorMarker, StringComparison.Ordinal)
                || explanation.StartsWith("msb entered the VM and then stopped (exit code", StringComparison.Ordinal), explanation);
        else
            Assert.Contains(KrunDiagnostics.KvmOpenFailedMarker, explanation);
        if (!HostCpu.HasVirtualizationExtensions()) Assert.Contains("VT-x/AMD-V", explanation);

        // Nothing left behind: no process, no held lifecycle lock, no Running row or active run.
        if (pid is { } p) Assert.False(Microsandbox.State.ProcessProbe.IsAlive(p), $"msb pid {p} is still alive");
        Assert.False(LifecycleLock.IsHeld(home, name), "the lifecycle lock is still held");
        await using (var store = await StateStore.OpenAsync(home.Root, ct))
        {
            // msb ends its rows itself after a KVM exit, but a panic (no /dev/kvm) aborts it first: then our sweep,
            // which every launch and `ls` runs, must close them (dead pid, lifecycle lock free).
            if (!File.Exists("/dev/kvm")) await store.SweepStaleAsync(ct);
            var row = await store.GetSandboxAsync(name, ct);
            Assert.NotNull(row);
            output.WriteLine($"sandbox row after the failure: {row.Status}");
            Assert.NotEqual(SandboxStatus.Running, row.Status);
            Assert.Null(await store.GetActiveRunAsync(record.Id, ct));
        }
    }
}
