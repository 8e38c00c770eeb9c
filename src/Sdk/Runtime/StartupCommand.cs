using System.Globalization;
using System.Text.Json.Serialization;
using Microsandbox.Config;

namespace Microsandbox.Runtime;

/// <summary>
/// The sandbox's main process, started by the sandbox process once the guest is ready (upstream's
/// <c>StartupCommand</c> in <c>crates/runtime/lib/vm.rs</c>; the first five fields are upstream's, so <c>msb</c>
/// accepts the document). The rest is our extension: how the QEMU sandbox process stops it and what happens when it
/// ends; <c>msb</c> ignores them.
/// </summary>
public sealed record StartupCommand
{
    /// <summary>The program: a path, or a name looked up on the guest's <c>PATH</c>.</summary>
    [JsonPropertyName("cmd")] public string Cmd { get; init; } = "";
    /// <summary>Its arguments.</summary>
    [JsonPropertyName("args")] public IReadOnlyList<string> Args { get; init; } = [];
    /// <summary>Environment as <c>KEY=VALUE</c>.</summary>
    [JsonPropertyName("env")] public IReadOnlyList<string> Env { get; init; } = [];
    /// <summary>Working directory; null: the sandbox's.</summary>
    [JsonPropertyName("cwd")] public string? Cwd { get; init; }
    /// <summary>Guest user; null: the sandbox's.</summary>
    [JsonPropertyName("user")] public string? User { get; init; }
    /// <summary>The signal a stop sends to its process group first (the image's <c>STOPSIGNAL</c>, default 15).</summary>
    [JsonPropertyName("stop_signal")] public int StopSignal { get; init; } = 15;
    /// <summary>How long a stop waits after <see cref="StopSignal"/> before SIGKILL.</summary>
    [JsonPropertyName("stop_grace_secs")] public double StopGraceSecs { get; init; } = 10;
    /// <summary>Keep the VM running after the main process ended (its exit is still recorded and logged).</summary>
    [JsonPropertyName("keep_vm")] public bool KeepVm { get; init; }
    /// <summary>The main process's health check, run by the sandbox process; null: none.</summary>
    [JsonPropertyName("healthcheck")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public StartupHealthcheck? Healthcheck { get; init; }
    /// <summary>Host files and trees copied into the guest, in order, before the main process starts.</summary>
    [JsonPropertyName("files")] public IReadOnlyList<StartupFile> Files { get; init; } = [];

    /// <summary>
    /// What of a main process <c>msb</c> (the krun engine) cannot honour, as a refusal naming the setting, or null: it
    /// reads upstream's five fields only, stops the VM when the command ends, and stops it with its own signal.
    /// </summary>
    internal static string? KrunRefusal(StartupCommand startup, int filesToCopy) =>
        filesToCopy > 0 ? "copy-in before the main process: msb (the krun engine) cannot copy files in before it starts the main process; use the qemu engine or copy them with Sandbox.Fs after create"
        : startup.KeepVm ? "main process keepVm: msb (the krun engine) stops the VM when its startup command ends; use the qemu engine"
        : startup.StopSignal != 15 ? $"stop_signal {Host.Signals.Name(startup.StopSignal)}: msb (the krun engine) stops a startup command its own way; use the qemu engine or the default SIGTERM"
        : startup.StopGraceSecs != SandboxConfig.DefaultStopTimeout.TotalSeconds ? "stop_timeout: msb (the krun engine) has no grace period for a startup command; use the qemu engine or the default 10 s"
        : startup.Healthcheck is not null ? "healthcheck: msb (the krun engine) runs no health checks; use the qemu engine, or Wait.ForCommand for readiness"
        : null;

    /// <summary>
    /// The main process a config asks for (<see cref="SandboxConfig.StartupCommandRequested"/>), resolved after the
    /// image's defaults were merged: entrypoint + cmd, the sandbox's env, workdir and user, the stop signal and grace.
    /// Null when none is asked for.
    /// </summary>
    /// <exception cref="InvalidConfigException">A main process is asked for but no command is defined, or the stop signal is not one.</exception>
    internal static StartupCommand? For(SandboxConfig config)
    {
        if (!config.StartupCommandRequested) return null;
        var runtime = config.Spec.Runtime;
        var argv = (runtime.Entrypoint ?? []).Concat(runtime.Cmd ?? []).ToList();
        if (argv.Count == 0)
            throw new InvalidConfigException("main process: neither the builder (Entrypoint/Cmd) nor the image (ENTRYPOINT/CMD) defines a command to run");
        if (argv[0].Length == 0)
            throw new InvalidConfigException("main process: the command's program is an empty string");
        var signal = config.StopSignal is null ? 15 : Host.Signals.Parse(config.StopSignal)
            ?? throw new InvalidConfigException($"stop_signal: '{config.StopSignal}' (the image's STOPSIGNAL or the builder's) is not a signal name (SIGTERM, TERM) or a number 1..64");
        return new StartupCommand
        {
            Cmd = argv[0],
            Args = argv.Skip(1).ToList(),
            Env = config.Spec.Env.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Key}={e.Value}")).ToList(),
            Cwd = runtime.Workdir,
            User = runtime.User,
            StopSignal = signal,
            StopGraceSecs = config.StopTimeout.TotalSeconds,
            KeepVm = config.KeepVmAfterMainProcess,
            Healthcheck = config.Healthcheck is { IsDisabled: false } check
                ? new StartupHealthcheck(check.Argv(runtime.Shell ?? "/bin/sh")!, check.Interval.TotalSeconds, check.Timeout.TotalSeconds, check.StartPeriod.TotalSeconds, check.Retries)
                : null,
        };
    }
}

/// <summary>One copy into the guest before the main process starts: a host path (bytes were staged to one by the launcher).</summary>
/// <param name="Src">Host file or directory.</param>
/// <param name="Dst">Absolute guest path.</param>
/// <param name="Mode">Permission bits for files; null: the host file's.</param>
/// <param name="Uid">Owner user id; null: root.</param>
/// <param name="Gid">Owner group id; null: root.</param>
public sealed record StartupFile(
    [property: JsonPropertyName("src")] string Src,
    [property: JsonPropertyName("dst")] string Dst,
    [property: JsonPropertyName("mode")] uint? Mode,
    [property: JsonPropertyName("uid")] uint? Uid,
    [property: JsonPropertyName("gid")] uint? Gid);

/// <summary>A health check as the sandbox process runs it (Docker's HEALTHCHECK, the command already resolved).</summary>
/// <param name="Test">The check's argv (<c>CMD-SHELL</c> already wrapped in the sandbox's shell).</param>
/// <param name="IntervalSecs">Time between checks.</param>
/// <param name="TimeoutSecs">Time one check may take.</param>
/// <param name="StartPeriodSecs">Time after start during which failures do not count.</param>
/// <param name="Retries">Consecutive failures that make the main process unhealthy.</param>
public sealed record StartupHealthcheck(
    [property: JsonPropertyName("test")] IReadOnlyList<string> Test,
    [property: JsonPropertyName("interval_secs")] double IntervalSecs,
    [property: JsonPropertyName("timeout_secs")] double TimeoutSecs,
    [property: JsonPropertyName("start_period_secs")] double StartPeriodSecs,
    [property: JsonPropertyName("retries")] int Retries);
