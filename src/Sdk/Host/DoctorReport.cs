namespace Microsandbox.Host;

/// <summary>One fact <c>microsandbox doctor</c> checked.</summary>
/// <param name="Name">What was checked, e.g. "msb found".</param>
/// <param name="Ok">Whether the check passed.</param>
/// <param name="Detail">What was found (path, version), or why the check failed.</param>
/// <param name="Fix">How to make the check pass; null when it passed or nothing can be done.</param>
/// <param name="Required">False for informational checks that do not decide whether the engine can run.</param>
public sealed record DoctorCheck(string Name, bool Ok, string Detail, string? Fix = null, bool Required = true);

/// <summary>Everything checked for one engine, and the verdict.</summary>
/// <param name="Engine">qemu or krun.</param>
/// <param name="Checks">The checks, in the order they were made.</param>
public sealed record DoctorEngineReport(string Engine, IReadOnlyList<DoctorCheck> Checks)
{
    /// <summary>True when every required check passed.</summary>
    public bool CanRun => Checks.All(c => c.Ok || !c.Required);
}

/// <summary>What <c>microsandbox doctor</c> found, per engine.</summary>
/// <param name="Engines">One report per engine.</param>
/// <param name="AutoChoice">The engine <c>EngineKind.Auto</c> picks here and why, or why none can run.</param>
public sealed record DoctorReport(IReadOnlyList<DoctorEngineReport> Engines, string AutoChoice)
{
    /// <summary>True when at least one engine can run sandboxes on this host.</summary>
    public bool AnyEngineCanRun => Engines.Any(e => e.CanRun);
}
