using System.Xml.Linq;

namespace Microsandbox.Build;

/// <summary>Pass/fail/skip counts summed over VSTest TRX result files.</summary>
internal sealed record TrxSummary(int Passed, int Failed, int Skipped, int Files)
{
    private static readonly XNamespace Trx = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";

    /// <summary>The one line CI reads.</summary>
    public override string ToString() => $"{Passed} passed, {Failed} failed, {Skipped} skipped";

    public static TrxSummary FromDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return new TrxSummary(0, 0, 0, 0);
        }

        var files = Directory.GetFiles(directory, "*.trx", SearchOption.AllDirectories);
        return files.Select(FromFile).Aggregate(
            new TrxSummary(0, 0, 0, 0),
            (sum, one) => new TrxSummary(sum.Passed + one.Passed, sum.Failed + one.Failed, sum.Skipped + one.Skipped, sum.Files + 1));
    }

    public static TrxSummary FromFile(string path)
    {
        var document = XDocument.Load(path);
        int passed = 0, failed = 0, skipped = 0;

        // Counting results (not the Counters element) keeps data-driven rows and retries honest.
        foreach (var result in document.Descendants(Trx + "UnitTestResult"))
        {
            switch ((string?)result.Attribute("outcome"))
            {
                case "Passed":
                    passed++;
                    break;
                case "NotExecuted" or "Inconclusive" or "Pending" or "Disconnected" or "Warning":
                    skipped++;
                    break;
                default:
                    failed++; // Failed, Error, Timeout, Aborted and anything unknown
                    break;
            }
        }

        // A run that crashed before reporting results still says so in its summary.
        var summaryOutcome = (string?)document.Descendants(Trx + "ResultSummary").FirstOrDefault()?.Attribute("outcome");
        if (failed == 0 && summaryOutcome is "Error" or "Aborted" or "Timeout")
        {
            failed = 1;
        }

        return new TrxSummary(passed, failed, skipped, 1);
    }
}
