namespace Microsandbox.Build;

/// <summary>One named step of the build. Dependencies run first, and each target runs at most once per invocation.</summary>
internal abstract class BuildTarget
{
    public abstract string Name { get; }

    /// <summary>One line saying what the target does; printed when it starts and in <c>--help</c>.</summary>
    public abstract string Description { get; }

    public virtual IReadOnlyList<string> DependsOn => [];

    public abstract Task RunAsync(BuildContext context, CancellationToken cancellationToken);
}
