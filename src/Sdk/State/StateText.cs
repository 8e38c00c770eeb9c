using System.Globalization;

namespace Microsandbox.State;

/// <summary>
/// Converts the enum columns to and from their stored text. msb stores the variant name verbatim, which is
/// also the C# member name, so parsing is exact and case-sensitive: an unknown value is a catalog written by
/// a newer runtime and is reported instead of guessed.
/// </summary>
internal static class StateText
{
    public static string From(SandboxStatus value) => value.ToString();

    public static string From(RunStatus value) => value.ToString();

    public static string From(TerminationReason value) => value.ToString();

    public static SandboxStatus ParseSandboxStatus(string text) => Parse<SandboxStatus>(text, "sandbox.status");

    public static RunStatus ParseRunStatus(string text) => Parse<RunStatus>(text, "run.status");

    public static TerminationReason ParseTerminationReason(string text) =>
        Parse<TerminationReason>(text, "run.termination_reason");

    private static T Parse<T>(string text, string column) where T : struct, Enum
    {
        // Enum.TryParse would also accept numbers and differently-cased names; msb never writes those.
        foreach (T value in Enum.GetValues<T>())
        {
            if (string.Equals(value.ToString(), text, StringComparison.Ordinal))
            {
                return value;
            }
        }

        throw new MicrosandboxException(string.Create(
            CultureInfo.InvariantCulture,
            $"{column} holds '{text}', which this toolkit does not know (written by a newer msb than {MsbSchema.RuntimeVersion}?)"));
    }
}
