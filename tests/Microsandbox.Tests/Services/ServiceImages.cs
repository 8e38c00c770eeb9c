using Microsandbox.Engines;

namespace Microsandbox.Tests.Services;

/// <summary>
/// The service images <c>./build.sh Images</c> builds from Debian's packages (images/README.md), as OCI layouts:
/// <c>$MSB_TEST_IMAGES</c> (the build sets it), else the checkout's <c>artifacts/images</c>. Loaded by path, the way a
/// user loads a local image.
/// </summary>
internal static class ServiceImages
{
    public static string Directory =>
        Environment.GetEnvironmentVariable("MSB_TEST_IMAGES") is { Length: > 0 } dir ? dir : System.IO.Path.Combine(RepositoryRoot.Find(), "artifacts", "images");

    /// <summary>The layout of <paramref name="name"/>; skips the test (fails it on CI) when it was not built.</summary>
    public static string Path(string name)
    {
        var layout = System.IO.Path.Combine(Directory, name);
        if (File.Exists(System.IO.Path.Combine(layout, "index.json"))) return layout;
        var reason = $"the {name} service image is not built at {layout}: run ./build.sh Images";
        if (EngineRequirement.IsRequired) Assert.Fail(reason);
        Assert.Skip(reason);
        return layout;
    }
}
