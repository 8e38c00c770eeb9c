using Microsandbox.Engines;
using Microsandbox.Engines.Qemu;
using Microsandbox.Images;
using Microsandbox.Spec;
using Microsoft.Extensions.Logging;

namespace Microsandbox.Orchestration;

/// <summary>
/// What a build target needs from microsandbox, independent of the build tool (MSBuild tasks, the repo's build
/// program, a Nuke target body): prepare images, run a command in a throwaway sandbox with its output streamed to a
/// sink, run a test project's output inside a sandbox, and always tear the sandbox down — when the command fails,
/// throws, times out or the build is cancelled.
/// </summary>
public sealed class SandboxOrchestrator
{
    /// <summary>How long teardown may take before it gives up waiting (the sandbox process also ends with its creator).</summary>
    private static readonly TimeSpan TeardownLimit = TimeSpan.FromSeconds(30);

    private readonly ILogger _logger;

    /// <summary>Creates an orchestrator using <paramref name="options"/> (default: <see cref="SandboxOptions.Default"/>).</summary>
    public SandboxOrchestrator(SandboxOptions? options = null)
    {
        Options = options ?? SandboxOptions.Default;
        _logger = Options.LoggerFactory.CreateLogger("Microsandbox.Orchestration");
    }

    /// <summary>The options every sandbox is created with.</summary>
    public SandboxOptions Options { get; }

    /// <summary>
    /// Gets every image ready before a build spends time on it: checks the QEMU engine's kernel, initramfs and
    /// binary, the built-in busybox disk, local directories and disk images, and pulls OCI references into the
    /// image cache and builds their root disks (by <see cref="PullPolicy.IfMissing"/>, so sandboxes created afterwards
    /// boot without a download).
    /// </summary>
    /// <param name="images">Images as in <see cref="SandboxRequest.Image"/> (null or empty: the built-in image).</param>
    /// <param name="cancellationToken">Cancels the preparation.</param>
    /// <exception cref="EngineUnavailableException">The QEMU engine is missing a piece; the message says how to get it.</exception>
    /// <exception cref="MicrosandboxException">A local image does not exist.</exception>
    /// <exception cref="ImagePullException">An OCI image could not be pulled.</exception>
    public async Task<IReadOnlyList<PreparedImage>> PrepareImagesAsync(IEnumerable<string?> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        cancellationToken.ThrowIfCancellationRequested();
        if (Options.Engine != EngineKind.Krun) QemuAssets.Locate(Options.QemuAssetsDirectory, Options.QemuBinary);
        var prepared = new List<PreparedImage>();
        foreach (var image in images.Distinct())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var p = LocalImage(image) ?? await PullAsync(image!, cancellationToken).ConfigureAwait(false);
            _logger.LogInformation("image {Image} ready at {Location}", p.Image.Length == 0 ? "(built-in busybox)" : p.Image, p.Location);
            prepared.Add(p);
        }
        return prepared;
    }

    private async Task<PreparedImage> PullAsync(string reference, CancellationToken cancellationToken)
    {
        // Pull and build the root disk now, so a sandbox created from the reference later finds both cached.
        var image = await OciImages.EnsureRootDiskAsync(reference, Options, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new PreparedImage(reference, image.DiskPath) { ManifestDigest = image.ManifestDigest };
    }

    /// <summary>The built-in image or a local path, checked; null for an OCI reference.</summary>
    private static PreparedImage? LocalImage(string? image)
    {
        if (string.IsNullOrEmpty(image))
        {
            var disk = BuiltinImages.BusyboxDisk;
            if (!File.Exists(disk)) throw new MicrosandboxException($"image: the built-in busybox disk is missing at {disk}; delete its directory so that the Microsandbox.Guest.linux-x64 package unpacks it again");
            return new PreparedImage("", disk);
        }
        if (ImageSource.LooksLikeLocalPath(image))
        {
            var full = Path.GetFullPath(image);
            if (!File.Exists(full) && !Directory.Exists(full)) throw new MicrosandboxException($"image: '{image}' does not exist (resolved to {full})");
            return new PreparedImage(image, full);
        }
        return null;
    }

    /// <summary>
    /// Boots an ephemeral sandbox for <paramref name="request"/>. The caller owns it: stop it with
    /// <see cref="TeardownAsync"/> (or dispose it) in a <c>finally</c>.
    /// </summary>
    public async Task<Sandbox> StartAsync(SandboxRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = request.Name is { Length: > 0 } n ? n : SandboxRequest.GenerateName();
        _logger.LogInformation("starting sandbox {Name} ({Image})", name, request.UsesBuiltinImage ? "built-in busybox" : request.Image);
        var sandbox = await Sandbox.CreateAsync(request.ToBuilder(name), Options, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("sandbox {Name} is running on {Engine}", name, sandbox.EngineName);
        return sandbox;
    }

    /// <summary>
    /// Runs <paramref name="command"/> in a running <paramref name="sandbox"/>, sending each output line to
    /// <paramref name="sink"/> as it arrives. Cancellation or the command's timeout kills the command (the sandbox keeps running).
    /// </summary>
    /// <exception cref="CommandTimeoutException">The command exceeded <see cref="CommandRequest.Timeout"/>.</exception>
    /// <exception cref="ExecFailedException">The command could not be started (e.g. it does not exist in the guest).</exception>
    public async Task<CommandResult> ExecAsync(Sandbox sandbox, CommandRequest command, IOutputSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(sink);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (command.Timeout is { } timeout)
        {
            if (timeout <= TimeSpan.Zero) throw new InvalidConfigException($"timeout must be positive, got {timeout}");
            limit.CancelAfter(timeout);
        }
        var stdout = new LineSplitter(OutputStream.Stdout, sink);
        var stderr = new LineSplitter(OutputStream.Stderr, sink);
        int? exitCode = null;
        _logger.LogInformation("running {Command} in sandbox {Name}", command, sandbox.Name);
        try
        {
            // Leaving this loop early disposes the exec session, which kills the guest command.
            await foreach (var e in sandbox.ExecEventsAsync(command.ToExecCommand(), limit.Token).ConfigureAwait(false))
            {
                switch (e)
                {
                    case Agent.ExecEvent.Stdout o: stdout.Write(o.Data.Span); break;
                    case Agent.ExecEvent.Stderr o: stderr.Write(o.Data.Span); break;
                    case Agent.ExecEvent.Exited x: exitCode = x.Code; break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && command.Timeout is { } t)
        {
            throw new CommandTimeoutException(sandbox.Name, command.ToString(), t);
        }
        finally
        {
            stdout.Flush();
            stderr.Flush();
        }
        var code = exitCode ?? throw new MicrosandboxException($"exec '{command}' in sandbox '{sandbox.Name}': the session ended without an exit code");
        _logger.LogInformation("{Command} exited with code {Code}", command.Program, code);
        return new CommandResult(sandbox.Name, code, stdout.Text, stderr.Text);
    }

    /// <summary>
    /// Boots a throwaway sandbox, runs <paramref name="command"/> in it with output streamed to <paramref name="sink"/>,
    /// and tears the sandbox down whatever happens (success, non-zero exit, exception, timeout, cancellation).
    /// A non-zero exit code is returned, not thrown: the caller decides whether it fails the build.
    /// </summary>
    public async Task<CommandResult> RunAsync(SandboxRequest sandbox, CommandRequest command, IOutputSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(sink);
        var vm = await StartAsync(sandbox, cancellationToken).ConfigureAwait(false);
        try
        {
            return await ExecAsync(vm, command, sink, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await TeardownAsync(vm).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs a test project's output inside a throwaway sandbox (see <see cref="TestRunRequest"/>): binds the directory,
    /// checks the command's program exists in the guest, runs it with output streamed, and tears down.
    /// </summary>
    /// <exception cref="MicrosandboxException">The image lacks the program (e.g. <c>dotnet</c> in the busybox image).</exception>
    public async Task<CommandResult> RunTestsAsync(TestRunRequest request, IOutputSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(sink);
        var host = Path.GetFullPath(request.HostDirectory);
        if (!Directory.Exists(host)) throw new InvalidConfigException($"test run: the directory '{host}' does not exist");
        var command = request.EffectiveCommand();
        var sandbox = request.Sandbox with { Mounts = [.. request.Sandbox.Mounts, new MountRequest(host, request.GuestDirectory, request.ReadOnly)] };
        var vm = await StartAsync(sandbox, cancellationToken).ConfigureAwait(false);
        try
        {
            // `command -v` answers for PATH lookups and absolute paths alike, so a missing dotnet is reported plainly.
            var probe = await vm.ExecAsync("/bin/sh", ["-c", "command -v \"$0\" >/dev/null", command.Program], cancellationToken).ConfigureAwait(false);
            if (probe.ExitCode != 0)
            {
                var hint = command.Program == "dotnet"
                    ? "; running `dotnet test` needs an image that contains .NET (an OCI image with the .NET SDK), the built-in busybox image has none: use such an image or pass a Command that the image can run"
                    : "";
                throw new MicrosandboxException($"test run: the program '{command.Program}' is not in the image{hint}");
            }
            return await ExecAsync(vm, command, sink, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await TeardownAsync(vm).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops (and, being ephemeral, removes) <paramref name="sandbox"/>, ignoring the caller's cancellation so a
    /// cancelled build still cleans up. Errors are logged, not thrown, so they never hide the build's own failure.
    /// </summary>
    public async Task TeardownAsync(Sandbox sandbox)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        using var limit = new CancellationTokenSource(TeardownLimit);
        try
        {
            _logger.LogInformation("stopping sandbox {Name}", sandbox.Name);
            if (sandbox.Spec.Lifecycle.Ephemeral) await sandbox.RemoveAsync(limit.Token).ConfigureAwait(false);
            else await sandbox.StopAsync(limit.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Teardown must not replace the error that got us here.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _logger.LogWarning(e, "stopping sandbox {Name} failed; its process ends with this one", sandbox.Name);
        }
    }
}
