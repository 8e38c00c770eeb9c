using Microsandbox.Engines;
using Microsandbox.Host;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsandbox;

/// <summary>
/// Where and how sandboxes run. Everything has a default: the state directory is <c>$MSB_HOME</c> or
/// <c>~/.microsandbox</c>, the engine is chosen automatically, and logging is off.
/// </summary>
public sealed record SandboxOptions
{
    /// <summary>Options with every default.</summary>
    public static SandboxOptions Default { get; } = new();

    /// <summary>The state directory (database, sockets, logs). Default: <c>$MSB_HOME</c>, else <c>~/.microsandbox</c>.</summary>
    public string? HomeDirectory { get; init; }

    /// <summary>Which engine runs the sandbox. Default <see cref="EngineKind.Auto"/>.</summary>
    public EngineKind Engine { get; init; } = EngineKind.Auto;

    /// <summary>Where the QEMU engine finds its kernel, initramfs and default root disk. Default <c>~/.microsandbox/qemu</c>.</summary>
    public string? QemuAssetsDirectory { get; init; }

    /// <summary>The QEMU binary. Default: <c>qemu-system-x86_64</c> on PATH.</summary>
    public string? QemuBinary { get; init; }

    /// <summary>How long the guest agent may take to report ready after the VMM starts. Default 60 s (software emulation on a loaded host is slow).</summary>
    public TimeSpan BootTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long <c>Sandbox.StopAsync</c> waits for a graceful guest shutdown before killing. Default 10 s.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Keep the row, logs and runtime files of a sandbox that failed to start, for post-mortem. Default: false, or true when <c>MSB_KEEP_FAILED=1</c>.</summary>
    public bool KeepFailedSandboxes { get; init; } = Environment.GetEnvironmentVariable("MSB_KEEP_FAILED") == "1";

    /// <summary>
    /// QEMU engine: resume sandboxes from a snapshot template of their shape when one exists (a fraction of a boot),
    /// and save one in the background after the first cold boot of a shape. Clones get their own bootstrap, clock and
    /// entropy; a template this QEMU cannot restore is dropped and the sandbox boots cold. Default: off
    /// (<c>MSB_SNAPSHOTS=1</c> turns it on).
    /// </summary>
    public bool BootFromSnapshot { get; init; } = Environment.GetEnvironmentVariable("MSB_SNAPSHOTS") == "1";

    /// <summary>Progress and diagnostics. Default: none.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>The state directory these options resolve to: <see cref="HomeDirectory"/>, else <c>$MSB_HOME</c>, else <c>~/.microsandbox</c>.</summary>
    public string StateDirectory => Home.Root;

    /// <summary>Where the sandbox called <paramref name="name"/> keeps its logs under <see cref="StateDirectory"/>, whether or not it still exists.</summary>
    public string LogDirectoryOf(string name) => Home.LogDirectory(name);

    internal MicrosandboxHome Home => HomeDirectory is { } dir ? new MicrosandboxHome(dir) : MicrosandboxHome.Default;

    /// <summary>Checks the values; the message names the setting and the rule.</summary>
    public void Validate()
    {
        if (BootTimeout <= TimeSpan.Zero) throw new InvalidConfigException($"{nameof(BootTimeout)} must be positive, got {BootTimeout}");
        if (StopTimeout < TimeSpan.Zero) throw new InvalidConfigException($"{nameof(StopTimeout)} must not be negative, got {StopTimeout}");
        if (HomeDirectory is { Length: 0 }) throw new InvalidConfigException($"{nameof(HomeDirectory)} must not be empty");
    }
}
