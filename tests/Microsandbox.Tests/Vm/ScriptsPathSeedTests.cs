namespace Microsandbox.Tests.Vm;

/// <summary>
/// The three <c>prepend_scripts_path</c> tests of microsandbox-runtime 0.5.1 <c>vm.rs</c>, named after them, ported to
/// where the QEMU engine does it: the guest agent puts <c>/.msb/scripts</c> first on an exec's <c>PATH</c>, once, and
/// gives an exec without one upstream's default (libkrun's init does the same for its first command). Run in the
/// shared sandbox: each case is one exec with its own <c>PATH</c>.
/// </summary>
[Collection(SharedSandboxCollection.Name)]
public sealed class ScriptsPathSeedTests(SharedSandboxFixture shared)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<string> GuestPathAsync(string? path)
    {
        var command = new ExecCommand("/bin/sh") { Arguments = ["-c", "printf %s \"$PATH\""] };
        if (path is not null) command = command.WithEnvironment("PATH", path);
        return (await shared.Sandbox.ExecAsync(command, Ct)).Stdout;
    }

    [Fact]
    public async Task test_prepend_scripts_path_updates_existing_path() =>
        Assert.Equal("/.msb/scripts:/usr/bin:/bin", await GuestPathAsync("/usr/bin:/bin"));

    [Fact]
    public async Task test_prepend_scripts_path_adds_default_path_when_missing() =>
        // The built-in image sets no PATH of its own: the agent's default is upstream's.
        Assert.Equal("/.msb/scripts:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", await GuestPathAsync(null));

    [Fact]
    public async Task test_prepend_scripts_path_avoids_duplicates() =>
        Assert.Equal("/.msb/scripts:/usr/bin", await GuestPathAsync("/.msb/scripts:/usr/bin"));
}
