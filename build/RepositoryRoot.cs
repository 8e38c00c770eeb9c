namespace Microsandbox.Build;

/// <summary>Finds the repository root (the folder holding Microsandbox.sln) from the build program or the caller.</summary>
internal static class RepositoryRoot
{
    public static string Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Microsandbox.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new BuildFailedException("cannot find the repository root (no Microsandbox.sln above the build program or here)");
    }
}
