namespace Microsandbox.Tests;

public class SmokeTests
{
    [Fact]
    public void Runtime_version_is_pinned() => Assert.Equal("0.6.18", MicrosandboxDefaults.RuntimeVersion);
}
