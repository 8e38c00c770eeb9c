namespace Microsandbox.Build.Targets;

/// <summary>Makes a fresh Debian machine ready: Debian packages, then the pinned upstream runtime from npm.</summary>
internal sealed class InstallTarget : BuildTarget
{
    public override string Name => "Install";

    public override string Description =>
        $"install missing Debian packages (native/packages.txt) and microsandbox {MicrosandboxDefaults.RuntimeVersion} from npm";

    public override async Task RunAsync(BuildContext context, CancellationToken cancellationToken)
    {
        await DebianPackages.EnsureAsync(context, cancellationToken);
        await NpmRuntime.EnsureAsync(context, cancellationToken);
    }
}
