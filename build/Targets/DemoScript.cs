namespace Microsandbox.Build.Targets;

/// <summary>
/// The <c>microsandbox</c> commands the Demo target runs, in order, from the repository root. Edit this list to
/// change what the main job shows (e.g. <c>["run", "--", "echo", "hello"]</c> once VMs boot).
/// </summary>
internal static class DemoScript
{
    public static readonly IReadOnlyList<string[]> Commands =
    [
        ["spec", "validate", "samples/sandbox.json"],
    ];
}
