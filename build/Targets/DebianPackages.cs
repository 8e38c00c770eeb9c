namespace Microsandbox.Build.Targets;

/// <summary>Installs the Debian packages the project needs, touching apt only when one is missing.</summary>
internal static class DebianPackages
{
    // Used until native/packages.txt exists; that file is the real list.
    private static readonly string[] FallbackList =
    [
        "qemu-system-x86", "busybox-static", "cpio", "kmod", "lz4", "xz-utils", "e2fsprogs", "gcc", "make",
        "docker-registry",
    ];

    public static async Task EnsureAsync(BuildContext context, CancellationToken cancellationToken)
    {
        var wanted = ReadWantedPackages(context);

        // The pinned runtime comes from npm; a machine without it gets Debian's.
        if (!CommandRunner.IsOnPath("npm") && !wanted.Contains("npm"))
        {
            wanted.Add("npm");
        }

        if (!CommandRunner.IsOnPath("dpkg-query") || !CommandRunner.IsOnPath("apt-get"))
        {
            BuildLog.Warn($"not a Debian-family system (no dpkg-query/apt-get); install these yourself: {string.Join(' ', wanted)}");
            return;
        }

        var missing = await FindMissingAsync(context, wanted, cancellationToken);
        if (missing.Count == 0)
        {
            BuildLog.Info($"all {wanted.Count} Debian packages are installed: {string.Join(' ', wanted)}");
            return;
        }

        BuildLog.Info($"missing Debian packages: {string.Join(' ', missing)}");
        var elevate = ElevationPrefix(missing);
        var environment = new Dictionary<string, string?> { ["DEBIAN_FRONTEND"] = "noninteractive" };

        // A fresh machine's package lists are stale or empty, so refresh them once before installing.
        await RunAptAsync(context, elevate, ["apt-get", "update"], environment, cancellationToken);
        await RunAptAsync(
            context,
            elevate,
            ["apt-get", "install", "-y", "--no-install-recommends", .. missing],
            environment,
            cancellationToken);

        var stillMissing = await FindMissingAsync(context, wanted, cancellationToken);
        if (stillMissing.Count > 0)
        {
            throw new BuildFailedException($"apt-get finished but these packages are still not installed: {string.Join(' ', stillMissing)}");
        }
    }

    private static List<string> ReadWantedPackages(BuildContext context)
    {
        var listFile = Path.Combine(context.NativeDir, "packages.txt");
        if (!File.Exists(listFile))
        {
            BuildLog.Info("native/packages.txt not found; using the built-in package list");
            return [.. FallbackList];
        }

        BuildLog.Info("package list: native/packages.txt");
        return File.ReadAllLines(listFile)
            .Select(line => line.Split('#', 2)[0])
            .SelectMany(line => line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    private static async Task<List<string>> FindMissingAsync(
        BuildContext context,
        IReadOnlyList<string> packages,
        CancellationToken cancellationToken)
    {
        // dpkg-query exits non-zero when it has never heard of a package but still lists the ones it knows.
        var (_, output) = await context.Runner.CaptureAsync(
            "dpkg-query",
            ["-W", "-f=${Package}\t${db:Status-Status}\n", .. packages],
            cancellationToken);
        var installed = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\t'))
            .Where(fields => fields.Length == 2 && fields[1].Trim() == "installed")
            .Select(fields => fields[0].Split(':')[0])
            .ToHashSet(StringComparer.Ordinal);
        return packages.Where(package => !installed.Contains(package.Split(':')[0])).ToList();
    }

    private static string[] ElevationPrefix(IReadOnlyList<string> missing)
    {
        if (Environment.IsPrivilegedProcess)
        {
            return [];
        }

        if (CommandRunner.IsOnPath("sudo"))
        {
            return ["sudo"];
        }

        throw new BuildFailedException(
            $"installing Debian packages needs root; run as root or install them yourself: {string.Join(' ', missing)}");
    }

    private static Task RunAptAsync(
        BuildContext context,
        string[] elevate,
        string[] argv,
        IReadOnlyDictionary<string, string?> environment,
        CancellationToken cancellationToken)
    {
        string[] full = [.. elevate, .. argv];
        return context.Runner.RunAsync(full[0], full[1..], cancellationToken, environment);
    }
}
