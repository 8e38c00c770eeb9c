using System.Text;
using System.Text.Json;
using Microsandbox.Agent;
using Microsandbox.DockerApi.Containers;
using Microsandbox.DockerApi.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsandbox.DockerApi.Endpoints;

/// <summary>
/// Exec: create an instance, start it on a hijacked connection (multiplexed stdout/stderr, stdin when attached) or
/// detached, inspect it for its exit code. A client that hangs up mid-exec ends the command; the server goes on.
/// </summary>
internal static class ExecEndpoints
{
    public static void Map(IEndpointRouteBuilder app, ContainerStore containers, ExecStore execs, CancellationToken shutdown)
    {
        app.MapPost("/containers/{id}/exec", async (string id, HttpContext context) =>
        {
            var container = containers.Get(id);
            var body = await DockerJson.ReadBodyAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            if (container.Status != ContainerStatus.Running)
                throw DockerApiException.Conflict($"Container {container.Id} is not running");
            var cmd = ContainerCreateRequest.Strings(body, "Cmd");
            if (cmd is not { Count: > 0 }) throw DockerApiException.BadRequest("No exec command specified");
            if (ContainerCreateRequest.Field(body, "Privileged") is { ValueKind: JsonValueKind.True }) throw DockerApiException.NotImplemented("Privileged exec");
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in ContainerCreateRequest.EnvPairs(ContainerCreateRequest.Strings(body, "Env") ?? [])) env[key] = value;
            var command = new ExecCommand(cmd[0])
            {
                Arguments = [.. cmd.Skip(1)],
                Environment = env,
                WorkingDirectory = ContainerCreateRequest.String(body, "WorkingDir") is { Length: > 0 } wd ? wd : null,
                User = ContainerCreateRequest.String(body, "User") is { Length: > 0 } user ? user : null,
                Tty = ContainerCreateRequest.Field(body, "Tty") is { ValueKind: JsonValueKind.True },
            };
            var exec = execs.Add(container, command,
                ContainerCreateRequest.Field(body, "AttachStdin") is { ValueKind: JsonValueKind.True },
                ContainerCreateRequest.Field(body, "AttachStdout") is not { ValueKind: JsonValueKind.False },
                ContainerCreateRequest.Field(body, "AttachStderr") is not { ValueKind: JsonValueKind.False });
            return DockerJson.Ok(new { Id = exec.Id }, 201);
        });
        app.MapPost("/exec/{id}/start", async (string id, HttpContext context) =>
        {
            var exec = execs.Get(id);
            if (exec.Container.Sandbox is not { } sandbox || exec.Container.Status != ContainerStatus.Running)
                throw DockerApiException.Conflict($"Container {exec.Container.Id} is not running");
            var mediaType = exec.Command.Tty ? StreamFrames.RawMediaType : StreamFrames.MultiplexedMediaType;
            await using var hijack = await Hijack.AcceptAsync(context, mediaType, context.RequestAborted).ConfigureAwait(false);
            exec.Begin();
            if (ContainerCreateRequest.Field(hijack.Body, "Detach") is { ValueKind: JsonValueKind.True })
            {
                // A detached start answers at once; the command runs on, bound to the server's life.
                _ = RunAsync(exec, sandbox, output: null, input: null, shutdown);
                return;
            }
            using var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, shutdown);
            await RunAsync(exec, sandbox, hijack.Output, exec.AttachStdin ? hijack.Input : null, both.Token).ConfigureAwait(false);
        });
        app.MapGet("/exec/{id}/json", (string id) =>
        {
            var exec = execs.Get(id);
            return DockerJson.Ok(new
            {
                ID = exec.Id,
                Running = exec.Running,
                ExitCode = exec.ExitCode,
                ProcessConfig = new
                {
                    tty = exec.Command.Tty,
                    entrypoint = exec.Command.Program,
                    arguments = exec.Command.Arguments,
                    privileged = false,
                    user = exec.Command.User ?? "",
                },
                OpenStdin = exec.AttachStdin,
                OpenStderr = exec.AttachStderr,
                OpenStdout = exec.AttachStdout,
                CanRemove = false,
                ContainerID = exec.Container.Id,
                DetachKeys = "",
                Pid = exec.Pid,
            });
        });
        app.MapPost("/exec/{id}/resize", (string id) =>
        {
            _ = execs.Get(id);
            return Results.Ok();
        });
    }

    /// <summary>Runs the command, copying its output to <paramref name="output"/> and <paramref name="input"/> to its stdin.</summary>
    private static async Task RunAsync(ContainerExec exec, Sandbox sandbox, Stream? output, Stream? input, CancellationToken cancellationToken)
    {
        bool raw = exec.Command.Tty;
        int exitCode = 126;
        try
        {
            await using var session = await sandbox.StartAsync(exec.Command, cancellationToken).ConfigureAwait(false);
            // Stdin is pumped until the client closes its side or the command ends, whichever is first.
            using var stdinDone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var stdin = input is null
                ? session.CloseStdinAsync(cancellationToken)
                : PumpStdinAsync(input, session, stdinDone.Token);
            await foreach (var e in session.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
            {
                switch (e)
                {
                    case ExecEvent.Started started:
                        exec.Started((int)started.Pid);
                        break;
                    case ExecEvent.Stdout o when output is not null && exec.AttachStdout:
                        await StreamFrames.WriteAsync(output, StreamFrames.Stdout, o.Data, raw, cancellationToken).ConfigureAwait(false);
                        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                        break;
                    case ExecEvent.Stderr err when output is not null && exec.AttachStderr:
                        await StreamFrames.WriteAsync(output, StreamFrames.Stderr, err.Data, raw, cancellationToken).ConfigureAwait(false);
                        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                        break;
                    case ExecEvent.Exited exited:
                        exitCode = exited.Code;
                        break;
                    case ExecEvent.Failed failed:
                        // Docker's runtime reports a command that cannot start in the stream and as 126/127.
                        exitCode = failed.Error.Kind == ExecFailureKind.NotFound ? 127 : 126;
                        if (output is not null)
                        {
                            var message = Encoding.UTF8.GetBytes($"OCI runtime exec failed: exec failed: {failed.Error.Message}: unknown\r\n");
                            await StreamFrames.WriteAsync(output, StreamFrames.Stdout, message, raw, cancellationToken).ConfigureAwait(false);
                        }
                        break;
                }
            }
            await stdinDone.CancelAsync().ConfigureAwait(false);
            await stdin.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client hung up (or the server stops): the session's disposal ended the command.
        }
        catch (Exception ex) when (ex is MicrosandboxException or IOException)
        {
            exitCode = 126;
            if (output is not null)
            {
                try
                {
                    await StreamFrames.WriteAsync(output, StreamFrames.Stderr, Encoding.UTF8.GetBytes(ex.Message + "\n"), raw, CancellationToken.None).ConfigureAwait(false);
                }
                catch (IOException)
                {
                }
            }
        }
        finally
        {
            exec.End(exitCode);
        }
    }

    private static async Task PumpStdinAsync(Stream input, ExecSession session, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                await session.WriteStdinAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            await session.CloseStdinAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or MicrosandboxException)
        {
            // The client closed its side or the command already ended: stdin is done either way.
        }
    }
}
