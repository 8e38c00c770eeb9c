using System.CommandLine;
using System.Globalization;
using System.Net;
using Microsandbox.Engines;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Cli.Commands;

/// <summary>
/// <c>microsandbox run [-d] [--name N] [--image DIR|DISK|REF] [--cpus N] [--memory MiB] [-v HOST:GUEST[:ro]] [-p HOST:GUEST]
/// [-e K=V] [--net PROFILES | --no-net] [--engine auto|qemu|krun] [-- CMD ARGS…]</c>. With a command: boots a throwaway
/// sandbox, runs it with its output streamed, exits with its code and leaves nothing behind. Without one: the image's
/// own command runs as the sandbox's main process, its logs streamed until it exits (Ctrl+C stops it). With
/// <c>--detach</c>: the main process (the command given replaces the image's CMD) keeps running in a named sandbox;
/// the name is printed once it runs (as upstream's <c>msb run -d</c>).
/// </summary>
public static class RunCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var name = new Option<string?>("--name") { Description = "Sandbox name (default: run-<random>)." };
        var image = new Option<string?>("--image") { Description = "Root directory, disk image or OCI reference (default: the built-in busybox root)." };
        var cpus = new Option<byte>("--cpus") { DefaultValueFactory = _ => 1, Description = "Virtual CPUs." };
        var memory = new Option<uint>("--memory") { DefaultValueFactory = _ => 512, Description = "Guest memory in MiB." };
        var volumes = new Option<string[]>("--volume", "-v") { Description = "Bind mount HOST:GUEST[:ro].", AllowMultipleArgumentsPerToken = false };
        var ports = new Option<string[]>("--publish", "-p") { Description = "Publish HOST:GUEST (TCP on 127.0.0.1)." };
        var env = new Option<string[]>("--env", "-e") { Description = "Environment variable K=V." };
        var workdir = new Option<string?>("--workdir", "-w") { Description = "Working directory in the guest." };
        var engine = new Option<EngineKind>("--engine") { DefaultValueFactory = _ => EngineKind.Auto, Description = "auto, qemu or krun." };
        var net = new Option<string[]>("--net") { Description = "Network profiles, repeatable or comma-separated: public, private, host (the host's own services), or all / none alone. Default: public." };
        var netRule = new Option<string[]>("--net-rule") { Description = "Network rule, repeatable, comma-separated tokens <action>[:<direction>]@<target>[:<proto>[:<ports>]] (e.g. allow@host:tcp:5432); ahead of the --net profiles." };
        var noNet = new Option<bool>("--no-net") { Description = "No network device at all (no published ports either)." };
        var verbose = new Option<bool>("--verbose") { Description = "Log progress to stderr." };
        var detach = new Option<bool>("--detach", "-d") { Description = "Run the main process in the background, print the sandbox name and return; the sandbox stays (stop and rm it by name)." };
        var command = new Argument<string[]>("command") { Arity = ArgumentArity.ZeroOrMore, Description = "The command and its arguments (after --); none: the image's own." };

        var run = new Command("run", "Boot a throwaway sandbox, run one command in it, and remove it.")
        {
            name, image, cpus, memory, volumes, ports, env, workdir, engine, net, netRule, noNet, verbose, detach, command,
        };
        run.SetAction(async (parse, ct) =>
        {
            var argv = parse.GetValue(command) ?? [];
            bool detached = parse.GetValue(detach);
            var builder = new SandboxBuilder(parse.GetValue(name) ?? "run-" + Guid.NewGuid().ToString("N")[..12])
                .Cpus(parse.GetValue(cpus)).Memory(parse.GetValue(memory));
            // A detached sandbox is kept by name until removed; a foreground one leaves nothing behind.
            if (!detached) builder = builder.Ephemeral();
            // No command, or detached: the sandbox runs a main process (the command given replaces the image's CMD).
            bool service = detached || argv.Length == 0;
            if (service)
            {
                builder = builder.MainProcess();
                if (argv.Length > 0) builder = builder.Cmd(argv);
            }
            builder = parse.GetValue(image) is { } img ? builder.Image(img) : builder.Image(BuiltinImages.Busybox);
            if (parse.GetValue(workdir) is { } wd) builder = builder.Workdir(wd);
            foreach (var v in parse.GetValue(volumes) ?? []) builder = AddVolume(builder, v);
            foreach (var p in parse.GetValue(ports) ?? []) builder = AddPort(builder, p);
            builder = ApplyNetwork(builder, parse.GetValue(net) ?? [], parse.GetValue(netRule) ?? [], parse.GetValue(noNet));
            foreach (var e in parse.GetValue(env) ?? [])
            {
                int eq = e.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0) throw new InvalidConfigException($"--env '{e}': expected K=V");
                builder = builder.Env(e[..eq], e[(eq + 1)..]);
            }
            using var loggerFactory = LoggerFactory.Create(b =>
            {
                // Progress goes to stderr so stdout carries only the command's own output.
                b.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
                    .SetMinimumLevel(parse.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
                // On a terminal the long steps (pull with per-layer bytes, root disk, boot, waits) show as they happen.
                if (!Console.IsErrorRedirected) b.AddFilter("Microsandbox", LogLevel.Information);
            });
            var options = new SandboxOptions { Engine = parse.GetValue(engine), LoggerFactory = loggerFactory };
            int code;
            await using (var sandbox = await Sandbox.CreateAsync(builder, options, ct))
            {
                if (detached)
                {
                    await sandbox.DetachAsync();
                    await parse.InvocationConfiguration.Output.WriteLineAsync(sandbox.Name);
                    return 0;
                }
                code = service
                    ? await ForegroundServiceAsync(sandbox, ct)
                    : await sandbox.ExecStreamingAsync(new ExecCommand(argv[0]) { Arguments = argv[1..] }, Console.OpenStandardOutput(), Console.OpenStandardError(), ct);
            }
            // With MSB_SNAPSHOTS=1 the first run of a shape saves its template in this process: finish it, or every
            // run would boot cold and start the save again. Ctrl+C abandons it.
            var saving = Sandbox.WaitForSnapshotTemplatesAsync(ct);
            if (!saving.IsCompleted) loggerFactory.CreateLogger("microsandbox").LogInformation("saving the snapshot template for later runs");
            await saving;
            return code;
        });
        return run;
    }

    /// <summary>
    /// Streams the main process's output (stdout to stdout, stderr to stderr) until it exits, and returns its exit code;
    /// Ctrl+C stops the sandbox gracefully (stop signal, grace period) and still prints the last lines.
    /// </summary>
    private static async Task<int> ForegroundServiceAsync(Sandbox sandbox, CancellationToken ct)
    {
        await using var stdout = Console.OpenStandardOutput();
        await using var stderr = Console.OpenStandardError();
        using var stop = ct.Register(() => _ = sandbox.StopAsync(CancellationToken.None));
        await foreach (var entry in sandbox.FollowLogsAsync(cancellationToken: CancellationToken.None))
        {
            var target = entry.Source == Spec.LogSource.Stderr ? stderr : stdout;
            await target.WriteAsync(System.Text.Encoding.UTF8.GetBytes(entry.Text + "\n"), CancellationToken.None);
            await target.FlushAsync(CancellationToken.None);
        }
        return await sandbox.GetExitCodeAsync(CancellationToken.None) ?? 1;
    }

    /// <summary>Upstream's <c>--net</c> grammar: profiles compose; <c>all</c> and <c>none</c> stand alone.</summary>
    internal static SandboxBuilder ApplyNetwork(SandboxBuilder builder, IReadOnlyList<string> values, IReadOnlyList<string> rules, bool noNetwork)
    {
        var tokens = values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries)).ToList();
        if (noNetwork)
        {
            return tokens.Count > 0 || rules.Count > 0
                ? throw new InvalidConfigException("--no-net cannot be combined with --net or --net-rule")
                : builder.DisableNetwork();
        }
        builder = ApplyProfiles(builder, tokens);
        // Explicit rules go ahead of the profiles' (first match wins), as upstream's CLI puts them.
        return rules.Count == 0 ? builder : builder.Network(n => n.Rules(string.Join(',', rules)));
    }

    private static SandboxBuilder ApplyProfiles(SandboxBuilder builder, List<string> tokens)
    {
        if (tokens.Count == 0) return builder;
        if (tokens.Any(t => t is "all" or "none"))
        {
            if (tokens.Count > 1) throw new InvalidConfigException($"--net {string.Join(',', tokens)}: 'all' and 'none' cannot be combined with other profiles");
            return builder.Network(n => tokens[0] == "all" ? n.AllowAll() : n.DenyAll());
        }
        var profiles = tokens.Select(t => t switch
        {
            "public" => NetworkProfile.Public,
            "private" => NetworkProfile.Private,
            "host" => NetworkProfile.Host,
            _ => throw new InvalidConfigException($"--net '{t}': not a network profile (public, private, host, all, none)"),
        }).ToArray();
        return builder.Network(n => n.Profiles(profiles));
    }

    private static SandboxBuilder AddVolume(SandboxBuilder builder, string spec)
    {
        var parts = spec.Split(':');
        bool ro = parts.Length == 3 && parts[2] == "ro";
        if (parts.Length < 2 || parts.Length > 3 || (parts.Length == 3 && !ro) || parts[0].Length == 0 || parts[1].Length == 0)
            throw new InvalidConfigException($"--volume '{spec}': expected HOST:GUEST or HOST:GUEST:ro");
        var host = Path.GetFullPath(parts[0]);
        return builder.Volume(parts[1], m => ro ? m.Bind(host).Readonly() : m.Bind(host));
    }

    private static SandboxBuilder AddPort(SandboxBuilder builder, string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length != 2
            || !ushort.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var host)
            || !ushort.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var guest))
            throw new InvalidConfigException($"--publish '{spec}': expected HOST:GUEST port numbers");
        return builder.PortBind(IPAddress.Loopback, host, guest);
    }
}
