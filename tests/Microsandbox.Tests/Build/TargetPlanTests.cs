extern alias BuildProgram;

using BuildProgram::Microsandbox.Build;
using BuildProgram::Microsandbox.Build.Targets;

namespace Microsandbox.Tests.Build;

public sealed class TargetPlanTests
{
    private static readonly TargetRunner Runner = new(
    [
        new InstallTarget(), new NativeTarget(), new ImagesTarget(), new CleanTarget(), new RestoreTarget(), new CompileTarget(),
        new TestTarget(), new PackTarget(), new DemoTarget(),
    ]);

    [Fact]
    public void Test_runs_after_install_native_images_and_compile()
    {
        Assert.Equal(["Install", "Native", "Images", "Restore", "Compile", "Test"], Names(Runner.Plan(["Test"])));
    }

    [Fact]
    public void Shared_dependencies_run_once()
    {
        Assert.Equal(
            ["Install", "Native", "Images", "Restore", "Compile", "Test", "Pack", "Demo"],
            Names(Runner.Plan(["Test", "Pack", "Demo", "Compile"])));
    }

    [Fact]
    public void Target_names_are_case_insensitive()
    {
        Assert.Equal(["Restore", "Install", "Native", "Compile", "Pack"], Names(Runner.Plan(["pack"])));
    }

    [Fact]
    public void An_unknown_target_is_rejected_by_name()
    {
        var error = Assert.Throws<BuildFailedException>(() => Runner.Plan(["Deploy"]));

        Assert.Contains("'Deploy'", error.Message);
        Assert.Equal(2, error.ExitCode);
    }

    [Fact]
    public void A_dependency_cycle_is_reported()
    {
        var runner = new TargetRunner([new FakeTarget("A", "B"), new FakeTarget("B", "A")]);

        var error = Assert.Throws<BuildFailedException>(() => runner.Plan(["A"]));

        Assert.Contains("cycle", error.Message);
    }

    private static string[] Names(IEnumerable<BuildTarget> plan) => plan.Select(target => target.Name).ToArray();

    private sealed class FakeTarget(string name, params string[] dependsOn) : BuildTarget
    {
        public override string Name => name;

        public override string Description => "fake";

        public override IReadOnlyList<string> DependsOn => dependsOn;

        public override Task RunAsync(BuildContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
