using System.Text.Json;

namespace Microsandbox.Xunit.Sample;

/// <summary>
/// Run only by Microsandbox.Tests' crash test (which sets MSB_XUNIT_CRASH_MARKER and kills this process): holds an
/// assembly sandbox, a per-test sandbox and a pre-booted one, writes their names and this process id to the marker,
/// then waits to be killed.
/// </summary>
public sealed class CrashProbeTests(AssemblySandbox assembly) : SandboxTest
{
    public const string MarkerVariable = "MSB_XUNIT_CRASH_MARKER";

    public static bool CrashMode => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(MarkerVariable));

    [SandboxFact(SkipUnless = nameof(CrashMode), Skip = "only run by the crash test in Microsandbox.Tests (" + MarkerVariable + " is not set)")]
    public async Task Holds_sandboxes_until_killed()
    {
        var marker = Environment.GetEnvironmentVariable(MarkerVariable)!;
        var ct = TestContext.Current.CancellationToken;
        await Pool.WhenWarmAsync(ct);
        var names = new[] { assembly.Sandbox.Name, Sandbox.Name };
        var state = new { pid = Environment.ProcessId, sandboxes = names, pids = new[] { assembly.Sandbox.ProcessId, Sandbox.ProcessId } };
        await File.WriteAllTextAsync(marker + ".tmp", JsonSerializer.Serialize(state), ct);
        File.Move(marker + ".tmp", marker);
        await Task.Delay(TimeSpan.FromMinutes(5), ct);
        Assert.Fail("the crash test should have killed this process");
    }
}
