namespace Microsandbox.Spec;

/// <summary>The outcome of reading spec JSON: the value (when there were no errors), plus every error and warning found.</summary>
/// <typeparam name="T">The spec type read.</typeparam>
public sealed record SpecReadResult<T> where T : notnull
{
    /// <summary>The value read; <see langword="null"/> when <see cref="Errors"/> is not empty.</summary>
    public T? Value { get; init; }

    /// <summary>Problems that make the document unreadable (wrong types, out-of-range numbers, missing required fields, bad JSON).</summary>
    public IReadOnlyList<SpecProblem> Errors { get; init; } = [];

    /// <summary>Things ignored for forward compatibility, such as unknown fields.</summary>
    public IReadOnlyList<SpecProblem> Warnings { get; init; } = [];

    /// <summary>Whether the document was read without errors.</summary>
    public bool IsValid => Errors.Count == 0;
}
