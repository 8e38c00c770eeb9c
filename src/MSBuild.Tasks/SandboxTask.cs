using System.Globalization;
using Microsandbox.Engines;
using Microsandbox.Orchestration;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Microsandbox.MSBuild;

/// <summary>
/// What every microsandbox task shares: cancellation (Ctrl+C cancels the running operation, and whatever it started
/// is torn down), logging on the task thread, and turning failures into build errors with an MSBX code.
/// </summary>
public abstract class SandboxTask : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();
    private LogPump? _pump;

    /// <summary>The state directory; default <c>$MSB_HOME</c>, else <c>~/.microsandbox</c>.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>auto, qemu or krun; default auto.</summary>
    public string? Engine { get; set; }

    /// <summary>Called by MSBuild on Ctrl+C or when the build is aborted.</summary>
    public void Cancel() => _cancel.Cancel();

    /// <inheritdoc />
    public override bool Execute()
    {
        _pump = new LogPump();
        try
        {
            return _pump.Run(ExecuteAsync(_cancel.Token)) && !Log.HasLoggedErrors;
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            Log.LogError(null, "MSBX006", null, null, 0, 0, 0, 0, "{0}: cancelled; the sandbox was stopped.", GetType().Name);
            return false;
        }
        catch (CommandTimeoutException e)
        {
            Log.LogError(null, "MSBX003", null, null, 0, 0, 0, 0, "{0}", e.Message);
            return false;
        }
        catch (InvalidConfigException e)
        {
            Log.LogError(null, "MSBX005", null, null, 0, 0, 0, 0, "{0}: {1}", GetType().Name, e.Message);
            return false;
        }
        catch (MicrosandboxException e)
        {
            Log.LogError(null, "MSBX002", null, null, 0, 0, 0, 0, "{0}: {1}", GetType().Name, e.Message);
            return false;
        }
    }

    /// <summary>The task's work, run on the thread pool while the task thread forwards log calls.</summary>
    private protected abstract Task<bool> ExecuteAsync(CancellationToken cancellationToken);

    /// <summary>Orchestrator whose progress goes to this task's log.</summary>
    private protected SandboxOrchestrator CreateOrchestrator()
    {
        var engine = EngineKind.Auto;
        if (!string.IsNullOrEmpty(Engine) && (!Enum.TryParse(Engine, ignoreCase: true, out engine) || !Enum.IsDefined(engine) || char.IsDigit(Engine[0])))
            throw new InvalidConfigException($"Engine must be auto, qemu or krun, got '{Engine}'");
        return new SandboxOrchestrator(new SandboxOptions
        {
            HomeDirectory = string.IsNullOrEmpty(StateDirectory) ? null : StateDirectory,
            Engine = engine,
            LoggerFactory = new TaskLoggerFactory(Log, _pump!),
        });
    }

    /// <summary>A sink writing guest output to this task's log.</summary>
    private protected IOutputSink CreateSink(string? stdoutImportance, string? stderrImportance) =>
        new TaskLogSink(Log, _pump!, ParseImportance(stdoutImportance, "StandardOutputImportance"), ParseImportance(stderrImportance, "StandardErrorImportance"));

    /// <summary>Builds the command from the task's Command/Arguments/Env/Workdir/Timeout inputs.</summary>
    private protected static CommandRequest ParseCommand(string? command, string? script, string[]? arguments, string[]? env, string? workdir, int timeoutSeconds)
    {
        bool hasCommand = !string.IsNullOrWhiteSpace(command), hasScript = !string.IsNullOrEmpty(script);
        if (hasCommand == hasScript) throw new InvalidConfigException("exactly one of Command and Script must be set");
        if (hasScript && arguments is { Length: > 0 }) throw new InvalidConfigException("Arguments cannot be combined with Script (put them in the script)");
        if (timeoutSeconds < 0) throw new InvalidConfigException($"Timeout must be 0 (none) or a positive number of seconds, got {timeoutSeconds}");
        var request = hasScript ? CommandRequest.Shell(script!) : new CommandRequest(command!) { Arguments = arguments ?? [] };
        return request with
        {
            Environment = ParseEnv(env, "Env"),
            WorkingDirectory = string.IsNullOrEmpty(workdir) ? null : workdir,
            Timeout = timeoutSeconds > 0 ? TimeSpan.FromSeconds(timeoutSeconds) : null,
        };
    }

    /// <summary>Parses <c>K=V</c> items.</summary>
    private protected static Dictionary<string, string> ParseEnv(string[]? items, string field)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items ?? [])
        {
            int eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new InvalidConfigException($"{field} item '{item}': expected NAME=VALUE");
            env[item[..eq]] = item[(eq + 1)..];
        }
        return env;
    }

    /// <summary>Builds the sandbox request from the shared sandbox inputs.</summary>
    private protected SandboxRequest ParseSandbox(string? name, string? image, int cpus, int memory, string[]? env, string[]? mounts, string[]? ports, string? workdir)
    {
        if (cpus is < 0 or > byte.MaxValue) throw new InvalidConfigException($"Cpus must be between 1 and 255, got {cpus}");
        if (memory < 0) throw new InvalidConfigException($"Memory must be a positive number of MiB, got {memory}");
        return new SandboxRequest
        {
            Name = string.IsNullOrEmpty(name) ? null : name,
            Image = string.IsNullOrEmpty(image) ? null : LocalImageFromProjectDirectory(image),
            Cpus = cpus > 0 ? (byte)cpus : null,
            MemoryMib = memory > 0 ? (uint)memory : null,
            Environment = ParseEnv(env, "Env"),
            Mounts = (mounts ?? []).Select(MountRequest.Parse).Select(m => m with { HostPath = FromProjectDirectory(m.HostPath) }).ToArray(),
            Ports = (ports ?? []).Select(PortRequest.Parse).ToArray(),
            Workdir = string.IsNullOrEmpty(workdir) ? null : workdir,
        };
    }

    /// <summary>Relative host paths are relative to the project file, as everywhere in MSBuild.</summary>
    private string FromProjectDirectory(string path)
    {
        if (Path.IsPathRooted(path)) return path;
        var project = BuildEngine?.ProjectFileOfTaskNode;
        return string.IsNullOrEmpty(project) ? Path.GetFullPath(path) : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, path));
    }

    /// <summary>An image naming an existing file or directory next to the project is that path; anything else is kept as written.</summary>
    private string LocalImageFromProjectDirectory(string image)
    {
        if (Path.IsPathRooted(image)) return image;
        var candidate = FromProjectDirectory(image);
        return File.Exists(candidate) || Directory.Exists(candidate) ? candidate : image;
    }

    /// <summary>Fails the build (MSBX001) for a non-zero exit code unless it is ignored.</summary>
    private protected bool CheckExitCode(CommandRequest command, CommandResult result, bool ignoreExitCode)
    {
        if (result.ExitCode == 0) return true;
        if (ignoreExitCode)
        {
            _pump!.Post(() => Log.LogMessage(MessageImportance.Normal, "The command \"{0}\" exited with code {1} in sandbox {2} (ignored).", command, result.ExitCode, result.SandboxName));
            return true;
        }
        _pump!.Post(() => Log.LogError(null, "MSBX001", null, null, 0, 0, 0, 0,
            "The command \"{0}\" exited with code {1} in sandbox {2}.", command, result.ExitCode, result.SandboxName));
        return false;
    }

    /// <summary>Posts a message to the task thread.</summary>
    private protected void Message(MessageImportance importance, string format, params object[] args) =>
        _pump!.Post(() => Log.LogMessage(importance, format, args));

    private static MessageImportance ParseImportance(string? text, string field) =>
        string.IsNullOrEmpty(text) ? MessageImportance.High
        : Enum.TryParse<MessageImportance>(text, ignoreCase: true, out var importance) && Enum.IsDefined(importance) ? importance
        : throw new InvalidConfigException(string.Format(CultureInfo.InvariantCulture, "{0} must be High, Normal or Low, got '{1}'", field, text));
}
