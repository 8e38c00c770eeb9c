namespace Microsandbox.Cli;

/// <summary>Process exit codes of the <c>microsandbox</c> tool.</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The command failed for a reason other than bad input (or the command line itself did not parse).</summary>
    public const int Failure = 1;

    /// <summary>The input (a spec file, its JSON, a value in it) is invalid; stderr says which field and why.</summary>
    public const int InvalidInput = 2;
}
