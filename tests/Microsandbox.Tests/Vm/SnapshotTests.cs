using System.Diagnostics;
using Microsandbox.Engines.Qemu;
using Microsandbox.Host;

namespace Microsandbox.Tests.Vm;

/// <summary>
/// Snapshot templates (QEMU engine): the first cold boot of a shape saves a template in the background; later
/// sandboxes of that shape resume it and must still be their own machines (bootstrap, clock, entropy, files).
/// </summary>
public sealed class SnapshotTests(ITestOutputHelper output) : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("msbs-");

    public void Dispose()
    {
        try { _home.Delete(recursive: true); } catch (IOException) { }
    }

    private SandboxOptions Options() => new()
    {
        HomeDirectory = _home.FullName,
        BootTimeout = TimeSpan.FromSeconds(90),
        BootFromSnapshot = true,
        LoggerFactory = new TestOutputLoggerFactory(output),
    };

    private string DataDir(string marker)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_home.FullName, "data-" + marker)).FullName;
        File.WriteAllText(Path.Combine(dir, "marker"), marker + "\n");
        return dir;
    }

    // One shape: only the name, hostname, environment and the bind mount's host directory differ.
    private SandboxBuilder Shape(string marker) =>
        new SandboxBuilder(VmEnvironment.UniqueName("snap-" + marker)).Image(BuiltinImages.Busybox).DisableNetwork()
            .Hostname("host-" + marker).Env("MARKER", marker).Volume("/data", m => m.Bind(DataDir(marker)));

    private async Task<string> WaitForTemplateAsync()
    {
        var root = QemuTemplates.Directory(new MicrosandboxHome(_home.FullName));
        for (int i = 0; i < 1200; i++)
        {
            if (Directory.Exists(root) && Directory.GetDirectories(root).Where(d => !d.EndsWith(".tmp", StringComparison.Ordinal))
                    .Select(d => Path.Combine(d, "state")).FirstOrDefault(File.Exists) is { } state)
                return state;
            await Task.Delay(50, Ct);
        }
        throw new TimeoutException("no snapshot template was saved within 60 s of the first boot");
    }

    private static async Task<bool> ResumedAsync(Sandbox sandbox) =>
        (await sandbox.GetDiagnosticLogsAsync(Ct)).Contains("resuming template", StringComparison.Ordinal);

    [Fact]
    public async Task Clones_of_a_template_are_separate_machines_with_their_own_bootstrap_clock_and_entropy()
    {
        VmEnvironment.RequireVm();
        await using (var first = await Sandbox.CreateAsync(Shape("alpha"), Options(), Ct))
        {
            Assert.False(await ResumedAsync(first));
            Assert.Equal("alpha\n", (await first.ExecAsync("cat", ["/data/marker"], Ct)).Stdout);
        }
        await WaitForTemplateAsync();

        var creating = new[] { Sandbox.CreateAsync(Shape("beta"), Options(), Ct), Sandbox.CreateAsync(Shape("gamma"), Options(), Ct) };
        var clones = await Task.WhenAll(creating);
        try
        {
            var random = new List<string>();
            foreach (var (clone, marker) in clones.Zip(new[] { "beta", "gamma" }))
            {
                Assert.True(await ResumedAsync(clone), "the sandbox booted cold although a template of its shape exists");
                var r = await clone.ShellAsync("hostname; echo $MARKER; cat /data/marker; date +%s; head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n'", Ct);
                Assert.Equal(0, r.ExitCode);
                var lines = r.Stdout.Split('\n');
                Assert.Equal(["host-" + marker, marker, marker], lines[..3]);
                // The template was saved seconds ago; the clone's wall clock must be today's, not the template's.
                Assert.InRange(long.Parse(lines[3]), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
                random.Add(lines[4]);
            }
            Assert.NotEqual(random[0], random[1]);

            Assert.Equal(0, (await clones[0].ShellAsync("echo mine > /tmp/only-beta && echo changed > /data/from-guest", Ct)).ExitCode);
            Assert.NotEqual(0, (await clones[1].ExecAsync("cat", ["/tmp/only-beta"], Ct)).ExitCode);
            Assert.Equal("changed\n", File.ReadAllText(Path.Combine(_home.FullName, "data-beta", "from-guest")));
            Assert.False(File.Exists(Path.Combine(_home.FullName, "data-gamma", "from-guest")));
        }
        finally
        {
            foreach (var clone in clones) await clone.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_command_line_run_finishes_saving_its_template_before_it_exits_and_the_next_run_resumes_it()
    {
        VmEnvironment.RequireVm();
        // The save runs in the creating process: a `microsandbox run` that exited at once would abandon it every time.
        async Task<string> RunAsync()
        {
            var psi = new ProcessStartInfo(Runtime.SandboxProcessLocator.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Microsandbox.Cli.dll"), "run", "--verbose", "--", "echo", "ok" })
                psi.ArgumentList.Add(a);
            psi.Environment["MSB_HOME"] = _home.FullName;
            psi.Environment["MSB_SNAPSHOTS"] = "1";
            using var cli = Process.Start(psi)!;
            var stdout = cli.StandardOutput.ReadToEndAsync(Ct);
            var stderr = cli.StandardError.ReadToEndAsync(Ct);
            await cli.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(120), Ct);
            output.WriteLine(await stderr);
            Assert.Equal(0, cli.ExitCode);
            Assert.Equal("ok\n", await stdout);
            return await stderr;
        }

        var first = await RunAsync();
        Assert.Contains("saving the snapshot template", first, StringComparison.Ordinal);
        var root = QemuTemplates.Directory(new MicrosandboxHome(_home.FullName));
        Assert.Contains(Directory.GetDirectories(root), d => !d.EndsWith(".tmp", StringComparison.Ordinal) && File.Exists(Path.Combine(d, "state")));
        var second = await RunAsync();
        Assert.Contains("resuming", second, StringComparison.Ordinal);
        Assert.DoesNotContain("saving the snapshot template", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_template_that_cannot_be_resumed_is_dropped_and_the_sandbox_boots_cold()
    {
        VmEnvironment.RequireVm();
        await using (var first = await Sandbox.CreateAsync(Shape("one"), Options(), Ct)) { }
        var state = await WaitForTemplateAsync();
        var garbage = new byte[4096];
        Random.Shared.NextBytes(garbage);
        File.WriteAllBytes(state, garbage);

        await using var sandbox = await Sandbox.CreateAsync(Shape("two"), Options(), Ct);
        Assert.False(await ResumedAsync(sandbox));
        Assert.Equal("two\n", (await sandbox.ExecAsync("cat", ["/data/marker"], Ct)).Stdout);
        // The broken state is gone (a fresh template may already be on its way).
        Assert.False(File.Exists(state) && File.ReadAllBytes(state).AsSpan().SequenceEqual(garbage));
    }

    [Fact]
    public async Task Sandboxes_of_an_oci_image_resume_a_template_with_the_image_disk_copy_on_write()
    {
        VmEnvironment.RequireVm();
        var image = Microsandbox.Tests.Images.TestImage.Create(
            [Microsandbox.Tests.Images.TestImage.BusyboxLayer(), [Microsandbox.Tests.Images.TestImage.FileEntry("etc/motd", "from the image\n")]],
            cmd: ["/bin/cat", "/etc/motd"]);
        var archive = Path.Combine(_home.FullName, "image.tar");
        image.WriteDockerSave(archive, "127.0.0.1:1/snap:1");
        SandboxBuilder Oci(string marker) =>
            new SandboxBuilder(VmEnvironment.UniqueName("snapoci-" + marker)).Image(archive).DisableNetwork().Hostname("oci-" + marker);

        await using (var first = await Sandbox.CreateAsync(Oci("a"), Options(), Ct))
        {
            Assert.False(await ResumedAsync(first));
            Assert.Equal(0, (await first.ShellAsync("echo changed > /etc/motd", Ct)).ExitCode);
        }
        await WaitForTemplateAsync();

        await using var clone = await Sandbox.CreateAsync(Oci("b"), Options(), Ct);
        Assert.True(await ResumedAsync(clone), "the OCI sandbox booted cold although a template of its shape exists");
        var r = await clone.ShellAsync("hostname; cat /etc/motd", Ct);
        // The first sandbox's write went to its own copy-on-write layer, never into the cached image disk.
        Assert.Equal("oci-b\nfrom the image\n", r.Stdout);
    }

    [Fact]
    public async Task A_clone_whose_own_bootstrap_fails_keeps_the_template_and_reports_its_own_error()
    {
        VmEnvironment.RequireVm();
        SandboxBuilder Plain(string marker) =>
            new SandboxBuilder(VmEnvironment.UniqueName("snapkeep-" + marker)).Image(BuiltinImages.Busybox).DisableNetwork();
        await using (var first = await Sandbox.CreateAsync(Plain("a"), Options(), Ct)) { }
        var state = await WaitForTemplateAsync();

        // Same shape (tmpfs mounts live in the bootstrap, not on the QEMU command line), but a mount the guest refuses.
        var error = await Assert.ThrowsAsync<SandboxStartException>(() =>
            Sandbox.CreateAsync(Plain("b").Volume("/etc/passwd", m => m.Tmpfs()), Options(), Ct));
        Assert.Contains("bootstrap", error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(state), "a sandbox's own failure must not cost its shape the template");

        await using var next = await Sandbox.CreateAsync(Plain("c"), Options(), Ct);
        Assert.True(await ResumedAsync(next));
    }
}
