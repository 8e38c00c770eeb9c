using System.Reflection;

namespace Microsandbox.Tests.Api;

/// <summary>
/// The public surface is a promise: every public type of the packages is listed in <c>Api/PublicTypes.txt</c>, so a
/// type that becomes public (or stops being) fails here until the list says so on purpose; and the front ends
/// (CLI, xUnit fixtures, MSBuild tasks) build on the SDK's public API alone, without InternalsVisibleTo.
/// </summary>
public sealed class PublicSurfaceTests
{
    private static readonly Assembly[] Packages =
    [
        typeof(Sandbox).Assembly,
        typeof(Modules.RedisBuilder).Assembly,
        typeof(Microsandbox.Xunit.SandboxFixture).Assembly,
    ];

    private static string ListPath => Path.Combine(RepositoryRoot.Find(), "tests", "Microsandbox.Tests", "Api", "PublicTypes.txt");

    private static IEnumerable<string> PublicTypes() =>
        Packages.SelectMany(a => a.GetExportedTypes().Select(t => $"{a.GetName().Name}: {t.FullName}")).Order(StringComparer.Ordinal);

    [Fact]
    public void Every_public_type_is_listed_and_every_listed_type_is_public()
    {
        var listed = File.ReadAllLines(ListPath).Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet(StringComparer.Ordinal);
        var actual = PublicTypes().ToHashSet(StringComparer.Ordinal);
        var added = actual.Except(listed).Order(StringComparer.Ordinal).ToList();
        var removed = listed.Except(actual).Order(StringComparer.Ordinal).ToList();
        Assert.True(added.Count == 0 && removed.Count == 0,
            $"the public surface changed; update {ListPath} if that is meant.\nnew public types:\n  {string.Join("\n  ", added)}\nno longer public:\n  {string.Join("\n  ", removed)}");
    }

    [Fact]
    public void Front_ends_get_no_access_to_the_sdks_internals()
    {
        var friends = typeof(Sandbox).Assembly.GetCustomAttributes<System.Runtime.CompilerServices.InternalsVisibleToAttribute>()
            .Select(a => a.AssemblyName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["Microsandbox.Benchmarks", "Microsandbox.Tests"], friends);
    }
}
