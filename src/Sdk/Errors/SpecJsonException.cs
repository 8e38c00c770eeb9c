using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>Spec JSON could not be read: bad syntax, wrong types, out-of-range numbers or missing required fields.</summary>
public sealed class SpecJsonException : MicrosandboxException
{
    /// <summary>Creates the exception from the problems found; the message lists each as <c>PATH: RULE</c>.</summary>
    public SpecJsonException(IReadOnlyList<SpecProblem> problems)
        : base("invalid spec JSON: " + string.Join("; ", problems))
    {
        Problems = problems;
    }

    /// <summary>Every problem found, in document order.</summary>
    public IReadOnlyList<SpecProblem> Problems { get; }
}
