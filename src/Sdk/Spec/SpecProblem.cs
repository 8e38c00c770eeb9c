namespace Microsandbox.Spec;

/// <summary>One problem found while reading spec JSON: where (a JSON path such as <c>$.resources.cpus</c>) and what rule it breaks.</summary>
/// <param name="Path">JSON path of the offending value, <c>$</c> for the document itself.</param>
/// <param name="Message">The rule, for example <c>expected an integer 0..255</c>.</param>
public sealed record SpecProblem(string Path, string Message)
{
    /// <summary>Returns <c>PATH: MESSAGE</c>.</summary>
    public override string ToString() => $"{Path}: {Message}";
}
