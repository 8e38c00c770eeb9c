using Microsandbox.Engines;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Xunit;

/// <summary>
/// How test sandboxes are made, set with <c>services.AddMicrosandbox(o => …)</c>. Every value has a default that works
/// with the guest assets the Microsandbox.Guest.linux-x64 package brings.
/// </summary>
public sealed class MicrosandboxOptions
{
    /// <summary>The state directory (database, sockets, logs). Default: <c>$MSB_HOME</c>, else <c>~/.microsandbox</c>.</summary>
    public string? HomeDirectory { get; set; }

    /// <summary>Which engine runs the sandboxes. Default <see cref="EngineKind.Auto"/>.</summary>
    public EngineKind Engine { get; set; } = EngineKind.Auto;

    /// <summary>Where the QEMU engine finds its kernel, initramfs and root disks. Default: the installed assets.</summary>
    public string? QemuAssetsDirectory { get; set; }

    /// <summary>The image a definition gets when it names none. Default <see cref="BuiltinImages.Busybox"/>.</summary>
    public Func<ImageBuilder, ImageBuilder>? DefaultImage { get; set; } = BuiltinImages.Busybox;

    /// <summary>How long a guest may take to become ready. Default 120 s (software emulation on a busy CI host is slow).</summary>
    public TimeSpan BootTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>How long a stop waits for a graceful guest shutdown before killing. Default 10 s.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Sandboxes booted ahead, per pool, for per-test isolation (<see cref="SandboxTest"/>). Default: half the
    /// processors, at least 1 and at most 4. Zero boots each test's sandbox on demand.
    /// </summary>
    public int PoolSize { get; set; } = Math.Clamp(Environment.ProcessorCount / 2, 1, 4);

    /// <summary>How many pool boots may run at once. Default 1: a boot that competes with tests slows both.</summary>
    public int PoolBootConcurrency { get; set; } = 1;

    /// <summary>
    /// Stop a pooled sandbox gracefully (guest shutdown, up to <see cref="StopTimeout"/>) when its test hands it back.
    /// Default false: a per-test sandbox is thrown away, so its VM is killed at once, which leaves the CPU to the
    /// next test and the next boot.
    /// </summary>
    public bool PoolStopsGracefully { get; set; }

    /// <summary>
    /// Resume sandboxes from a snapshot template of their shape (QEMU engine): the first boot of a shape saves one in
    /// the background (kept under the state directory for later runs), and every later sandbox of that shape —
    /// fixture or per-test — starts in a fraction of a boot, with its own bootstrap, clock and entropy. Default true.
    /// </summary>
    public bool BootFromSnapshot { get; set; } = true;

    /// <summary>Start of every sandbox name; the rest is unique per process and per sandbox. Default <c>xt</c>.</summary>
    public string NamePrefix { get; set; } = "xt";

    /// <summary>
    /// Keep sandboxes (rows, logs) after their fixture ends instead of removing them. Default false: test sandboxes
    /// are ephemeral.
    /// </summary>
    public bool KeepSandboxes { get; set; }

    /// <summary>
    /// Whether a host without a working engine fails the tests (true) or skips them (false). Default null: decided by
    /// the environment (<see cref="EngineRequirement"/>: required on CI and with <c>MSB_REQUIRE_ENGINE=1</c>).
    /// </summary>
    public bool? RequireEngine { get; set; }

    /// <summary>Whether this configuration fails rather than skips without an engine.</summary>
    internal bool EngineRequired => RequireEngine ?? EngineRequirement.IsRequired;

    /// <summary>The lowest level routed to test output and diagnostic messages. Default <see cref="LogLevel.Information"/>.</summary>
    public LogLevel MinimumLogLevel { get; set; } = LogLevel.Information;

    internal SandboxOptions ToSandboxOptions(ILoggerFactory loggerFactory) => new()
    {
        HomeDirectory = HomeDirectory,
        Engine = Engine,
        QemuAssetsDirectory = QemuAssetsDirectory,
        BootTimeout = BootTimeout,
        StopTimeout = StopTimeout,
        // The fixture reads a failed guest's logs itself, then removes what is left.
        KeepFailedSandboxes = true,
        BootFromSnapshot = BootFromSnapshot,
        LoggerFactory = loggerFactory,
    };
}
