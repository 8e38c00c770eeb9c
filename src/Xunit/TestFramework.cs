#if XUNIT_V2
using Xunit.Abstractions;
using Xunit.Sdk;
#else
using Xunit.Sdk;
using Xunit.v3;
#endif

namespace Microsandbox.Xunit;

/// <summary>
/// Everything Microsandbox.Xunit needs from the running xUnit, in one place because v3 and v2 differ there: where
/// log lines can go, the running test's cancellation, and how a test is skipped (v3 has a test context, v2 none).
/// </summary>
internal static class TestFramework
{
    /// <summary>Diagnostic messages: through <paramref name="sink"/> when the fixture was given one, else the current test context (v3) or nowhere (v2).</summary>
    public static Action<string> Diagnostics(IMessageSink? sink) => sink is not null
        ? line => sink.OnMessage(new DiagnosticMessage(line))
#if XUNIT_V2
        : _ => { };
#else
        : line => global::Xunit.TestContext.Current.SendDiagnosticMessage(line);
#endif

    /// <summary>The running test's output when there is one, else <paramref name="fallback"/>.</summary>
    public static Action<string> CurrentTestOr(Action<string> fallback)
    {
#if XUNIT_V2
        // v2 has no ambient test: SandboxTest routes a lease's logs to the output helper it was given.
        return fallback;
#else
        var output = global::Xunit.TestContext.Current.TestOutputHelper;
        return output is null ? fallback : output.WriteLine;
#endif
    }

    /// <summary>The running test's cancellation (v3: cancelled when the run is aborted); v2 has none.</summary>
#if XUNIT_V2
    public static CancellationToken CurrentTestCancellation => CancellationToken.None;
#else
    public static CancellationToken CurrentTestCancellation => global::Xunit.TestContext.Current.CancellationToken;
#endif

    /// <summary>Ends the calling test as skipped (v3), or fails it saying how to have it skipped (v2).</summary>
    public static void SkipCurrentTest(string reason)
    {
#if XUNIT_V2
        throw new InvalidOperationException(reason + " (mark the test [SandboxFact] or [SandboxTheory] to have it skipped)");
#else
        global::Xunit.Assert.Skip(reason);
#endif
    }
}
