using Microsandbox.Engines;
using Microsandbox.Engines.Qemu;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Tests.Vm;

/// <summary>
/// What the VM tests share: one temporary state directory per test run (never the user's <c>~/.microsandbox</c>),
/// the QEMU assets the build installs, and the reason to skip when this host cannot boot a guest.
/// </summary>
public static class VmEnvironment
{
    private static readonly Lazy<string?> Unavailable = new(() =>
    {
        try
        {
            QemuAssets.Locate();
            return null;
        }
        catch (EngineUnavailableException e)
        {
            return e.Message;
        }
    });

    /// <summary>The state directory of this test run (short, so socket paths fit).</summary>
    public static string Home { get; } = Directory.CreateTempSubdirectory("msbt-").FullName;

    /// <summary>Skips the calling test, printing why, when no VM can boot here.</summary>
    public static void RequireVm()
    {
        if (Unavailable.Value is not { } reason) return;
        // On CI (or with MSB_REQUIRE_ENGINE=1) a host that cannot boot is a failure, never a green skip.
        if (EngineRequirement.IsRequired) Assert.Fail($"no VM engine on this host, and one is required here: {reason}");
        Assert.Skip($"no VM engine on this host: {reason}");
    }

    /// <summary>Options pointing at this run's home, logging into <paramref name="output"/> when given.</summary>
    public static SandboxOptions Options(ITestOutputHelper? output = null, TimeSpan? bootTimeout = null) => new()
    {
        HomeDirectory = Home,
        Engine = EngineKind.Auto,
        BootTimeout = bootTimeout ?? TimeSpan.FromSeconds(90),
        LoggerFactory = output is null ? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance : new TestOutputLoggerFactory(output),
    };

    /// <summary>A sandbox name unique to this run.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 40)];
}

/// <summary>Routes SDK logs to a test's output.</summary>
public sealed class TestOutputLoggerFactory(ITestOutputHelper output) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new OutputLogger(output, categoryName);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class OutputLogger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                output.WriteLine($"[{logLevel}] {category}: {formatter(state, exception)}");
            }
            catch (InvalidOperationException)
            {
                // The test already finished; its output is closed.
            }
        }
    }
}
