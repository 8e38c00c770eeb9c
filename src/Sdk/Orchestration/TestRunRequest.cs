namespace Microsandbox.Orchestration;

/// <summary>
/// Runs a test project's build output inside a sandbox: <see cref="HostDirectory"/> is bound at
/// <see cref="GuestDirectory"/> and <see cref="Command"/> runs there. The default command is
/// <c>dotnet test</c>, which needs an image that contains .NET (an OCI image with the .NET SDK); the built-in busybox
/// image has none, so with it pass your own command (e.g. a test binary or script in the directory).
/// </summary>
/// <param name="HostDirectory">The build output (or any directory) to bind into the guest.</param>
public sealed record TestRunRequest(string HostDirectory)
{
    /// <summary>Where the directory appears in the guest. Default <c>/work</c>.</summary>
    public string GuestDirectory { get; init; } = "/work";

    /// <summary>Bind the directory read-only (results can then not be written next to the binaries).</summary>
    public bool ReadOnly { get; init; }

    /// <summary>The sandbox to run in (its mounts get the directory added).</summary>
    public SandboxRequest Sandbox { get; init; } = new();

    /// <summary>The test assembly or project file inside <see cref="HostDirectory"/> for the default <c>dotnet test</c>; null to test the directory.</summary>
    public string? TestTarget { get; init; }

    /// <summary>The command to run instead of <c>dotnet test</c>; its working directory defaults to <see cref="GuestDirectory"/>.</summary>
    public CommandRequest? Command { get; init; }

    /// <summary>The command that will run.</summary>
    public CommandRequest EffectiveCommand()
    {
        var command = Command ?? new CommandRequest("dotnet")
        {
            Arguments = TestTarget is null ? ["test"] : ["test", GuestDirectory.TrimEnd('/') + "/" + TestTarget],
        };
        return command.WorkingDirectory is null ? command with { WorkingDirectory = GuestDirectory } : command;
    }
}
