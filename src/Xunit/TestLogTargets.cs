using Xunit.Sdk;
using Xunit.v3;

namespace Microsandbox.Xunit;

/// <summary>Where log lines can go in an xUnit run.</summary>
internal static class TestLogTargets
{
    /// <summary>Diagnostic messages: through <paramref name="sink"/> when the fixture was given one, else the current test context.</summary>
    public static Action<string> Diagnostics(IMessageSink? sink) => sink is not null
        ? line => sink.OnMessage(new DiagnosticMessage(line))
        : line => global::Xunit.TestContext.Current.SendDiagnosticMessage(line);

    /// <summary>The running test's output when there is one, else <paramref name="fallback"/>.</summary>
    public static Action<string> CurrentTestOr(Action<string> fallback)
    {
        var output = global::Xunit.TestContext.Current.TestOutputHelper;
        return output is null ? fallback : output.WriteLine;
    }
}
