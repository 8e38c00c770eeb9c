namespace Microsandbox.Tests.Spec;

/// <summary>Locates the hand-written serde fixtures copied next to the test assembly.</summary>
internal static class SpecFixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "fixtures", "spec");

    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath)).TrimEnd('\n');

    public static IEnumerable<string> Names(string subdirectory, string pattern) =>
        Directory.EnumerateFiles(Path.Combine(Root, subdirectory), pattern)
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal)!;
}
