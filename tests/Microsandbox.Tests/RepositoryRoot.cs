namespace Microsandbox.Tests;

/// <summary>The checkout the test binaries were built in: the first directory above them holding Microsandbox.sln.</summary>
internal static class RepositoryRoot
{
    /// <summary>The repository root, or null when the binaries run outside a checkout.</summary>
    public static string? TryFind()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Microsandbox.sln"))) return dir.FullName;
        return null;
    }

    /// <summary>The repository root; throws when there is none.</summary>
    public static string Find() => TryFind() ?? throw new InvalidOperationException($"Microsandbox.sln not found above {AppContext.BaseDirectory}");
}
