using System.Diagnostics;

namespace Microsandbox.Tests.Vm;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LeakTestCollection
{
    public const string Name = "leaks (alone: it counts the whole process's descriptors and threads)";
}

/// <summary>
/// Fifty create / exec / remove cycles in this process leave its open descriptors, threads, child processes, the state
/// database's rows and the files under the state directory where they were. Runs alone (after every parallel test), so
/// the counts are this test's own.
/// </summary>
[Collection(LeakTestCollection.Name)]
public sealed class LeakTests(ITestOutputHelper output)
{
    private const int Cycles = 50;

    [Fact]
    public async Task Fifty_create_exec_remove_cycles_leave_nothing_behind()
    {
        VmEnvironment.RequireVm();
        var ct = TestContext.Current.CancellationToken;
        var home = Directory.CreateTempSubdirectory("msbleak-").FullName;
        try
        {
            // Snapshot templates keep the cycles short; the warm-up saves the template and grows the pools.
            var options = VmEnvironment.Options() with { HomeDirectory = home, BootFromSnapshot = true };
            for (int i = 0; i < 3; i++) await CycleAsync(options, i, ct);
            await Sandbox.WaitForSnapshotTemplatesAsync(ct);
            var before = await Footprint.TakeAsync(home, ct);

            var clock = Stopwatch.StartNew();
            for (int i = 0; i < Cycles; i++) await CycleAsync(options, 100 + i, ct);
            var after = await Footprint.TakeAsync(home, ct);
            output.WriteLine($"{Cycles} cycles in {clock.Elapsed.TotalSeconds:0.0} s");
            output.WriteLine($"before: {before}");
            output.WriteLine($"after:  {after}");

            // A leak adds descriptors; fewer is fine (something opened before the cycles, e.g. by the warm-up's
            // template save, closed since), so each target is compared by count rather than the total by equality.
            var grown = after.DescriptorTargets
                .Where(t => t.Value > before.DescriptorTargets.GetValueOrDefault(t.Key))
                .Select(t => $"{t.Key} {before.DescriptorTargets.GetValueOrDefault(t.Key)}→{t.Value}")
                .ToList();
            Assert.True(grown.Count == 0, $"descriptors went from {before.Descriptors} to {after.Descriptors}; grown: {string.Join(", ", grown)}");
            Assert.Equal(before.Children, after.Children);
            Assert.Equal(before.SandboxRows, after.SandboxRows);
            Assert.Equal(before.Files, after.Files);
            // Lifecycle lock files stay, one per name ever used, as upstream keeps them: deleting a flock file races
            // with a process (msb included) that opened it and waits for the lock (docs/compat.md).
            Assert.Equal(before.LockFiles + Cycles, after.LockFiles);
            // The thread pool grows and shrinks by its own rules; threads of our own (pool threads excluded) may not grow.
            Assert.True(after.OwnThreads <= before.OwnThreads + 1, $"threads outside the pool went from {before.OwnThreads} to {after.OwnThreads}");
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static async Task CycleAsync(SandboxOptions options, int n, CancellationToken ct)
    {
        await using var sb = await Sandbox.CreateAsync(
            new SandboxBuilder($"leak-{n}").Image(BuiltinImages.Busybox).Ephemeral(), options, ct);
        Assert.Equal($"cycle {n}\n", (await sb.ExecAsync("echo", ["cycle", n.ToString(System.Globalization.CultureInfo.InvariantCulture)], ct)).Stdout);
    }

    private sealed record Footprint(int Descriptors, int OwnThreads, int Children, int SandboxRows, string Files, int LockFiles, IReadOnlyDictionary<string, int> DescriptorTargets)
    {
        public override string ToString() =>
            $"{Descriptors} descriptors ({string.Join(", ", DescriptorTargets.Select(t => $"{t.Key} ×{t.Value}"))}), {OwnThreads} own threads, " +
            $"{Children} children, {SandboxRows} rows, {LockFiles} lock files, files: {Files}";

        public static async Task<Footprint> TakeAsync(string home, CancellationToken ct)
        {
            // Let finalizers close whatever is only unreachable, and the sandbox processes' last exits be reaped.
            await Task.Delay(500, ct);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            int self = Environment.ProcessId;
            var children = Directory.GetDirectories("/proc")
                .Select(dir => int.TryParse(Path.GetFileName(dir), out var pid) ? pid : 0)
                .Count(pid => pid > 0 && ParentOf(pid) == self);
            await using var store = await Microsandbox.State.StateStore.OpenAsync(home, ct);
            var rows = (await store.ListSandboxesAsync(cancellationToken: ct)).Count;
            var all = Directory.EnumerateFiles(home, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(home, f)).ToList();
            var locks = Path.Combine("run", "locks") + Path.DirectorySeparatorChar;
            var files = string.Join(", ", all
                .Where(f => !f.StartsWith("db" + Path.DirectorySeparatorChar, StringComparison.Ordinal)) // SQLite's -wal/-shm come and go
                .Where(f => !f.StartsWith(locks, StringComparison.Ordinal))
                .Order(StringComparer.Ordinal));
            var lockFiles = all.Count(f => f.StartsWith(locks, StringComparison.Ordinal));
            var threads = Process.GetCurrentProcess().Threads.Count - ThreadPool.ThreadCount;
            // Assemblies, native libraries and symbol files (read for a first stack trace) the runtime opens once stay
            // open for the life of the process: not per cycle.
            var descriptors = Directory.GetFiles("/proc/self/fd")
                .Where(fd => new FileInfo(fd).LinkTarget is not { } target || !(target.EndsWith(".dll", StringComparison.Ordinal) || target.EndsWith(".pdb", StringComparison.Ordinal) || target.Contains(".so", StringComparison.Ordinal)))
                .ToArray();
            // Sockets and pipes are named by inode ("socket:[123]"): grouped by kind, since their inodes change.
            var targets = descriptors
                .Select(fd => new FileInfo(fd).LinkTarget ?? "?")
                .Select(t => t.StartsWith("socket:", StringComparison.Ordinal) ? "socket" : t.StartsWith("pipe:", StringComparison.Ordinal) ? "pipe" : t)
                .GroupBy(t => t)
                .ToDictionary(g => g.Key, g => g.Count());
            return new Footprint(descriptors.Length, threads, children, rows, files, lockFiles, targets);
        }

        private static int ParentOf(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                return 0;
            }
        }
    }
}
