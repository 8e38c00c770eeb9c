using System.Diagnostics;

namespace Microsandbox.Build;

/// <summary>Orders the requested targets after their dependencies and runs each once, stopping at the first failure.</summary>
internal sealed class TargetRunner(IReadOnlyList<BuildTarget> catalog)
{
    private readonly Dictionary<string, BuildTarget> byName =
        catalog.ToDictionary(target => target.Name, StringComparer.OrdinalIgnoreCase);

    public BuildTarget? Find(string name) => byName.GetValueOrDefault(name);

    /// <summary>The run order: every dependency before its dependents, each target once.</summary>
    public IReadOnlyList<BuildTarget> Plan(IEnumerable<string> requested)
    {
        var order = new List<BuildTarget>();
        var done = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var inProgress = new Stack<string>();

        void Visit(string name)
        {
            var target = Find(name) ?? throw new BuildFailedException($"unknown target '{name}'", 2);
            if (done.Contains(target.Name))
            {
                return;
            }

            if (inProgress.Contains(target.Name, StringComparer.OrdinalIgnoreCase))
            {
                throw new BuildFailedException($"dependency cycle through target '{target.Name}'", 2);
            }

            inProgress.Push(target.Name);
            foreach (var dependency in target.DependsOn)
            {
                Visit(dependency);
            }

            inProgress.Pop();
            done.Add(target.Name);
            order.Add(target);
        }

        foreach (var name in requested)
        {
            Visit(name);
        }

        return order;
    }

    public async Task<int> RunAsync(BuildContext context, CancellationToken cancellationToken)
    {
        var plan = Plan(context.Options.Targets);
        var outcomes = new List<(string Name, string Outcome, TimeSpan Elapsed)>();
        var exitCode = 0;

        foreach (var target in plan)
        {
            if (context.Options.Skip.Contains(target.Name))
            {
                BuildLog.Target(target.Name, "skipped (--skip)");
                outcomes.Add((target.Name, "skipped", TimeSpan.Zero));
                continue;
            }

            BuildLog.Target(target.Name, target.Description);
            var clock = Stopwatch.StartNew();
            try
            {
                await target.RunAsync(context, cancellationToken);
                outcomes.Add((target.Name, "ok", clock.Elapsed));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                BuildLog.Error($"{target.Name} cancelled");
                outcomes.Add((target.Name, "cancelled", clock.Elapsed));
                exitCode = 130;
                break;
            }
            catch (BuildFailedException ex)
            {
                BuildLog.Error($"{target.Name} failed: {ex.Message}");
                outcomes.Add((target.Name, "FAILED", clock.Elapsed));
                exitCode = ex.ExitCode;
                break;
            }
        }

        BuildLog.Plain(string.Empty);
        BuildLog.Plain("Build summary:");
        foreach (var (name, outcome, elapsed) in outcomes)
        {
            BuildLog.Plain($"  {name,-10} {outcome,-10} {elapsed.TotalSeconds,7:F1} s");
        }

        foreach (var target in plan.Skip(outcomes.Count))
        {
            BuildLog.Plain($"  {target.Name,-10} not run");
        }

        // CI reads the last "N passed, N failed, N skipped" line, so nothing may follow it.
        if (context.ClosingLine is not null)
        {
            BuildLog.Plain(context.ClosingLine);
        }

        return exitCode;
    }
}
