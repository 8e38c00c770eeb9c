extern alias BuildProgram;

using BuildProgram::Microsandbox.Build;

namespace Microsandbox.Tests.Build;

public sealed class TrxSummaryTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("msb-trx-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Counts_each_result_by_outcome()
    {
        var path = WriteTrx("one.trx", "Completed", "Passed", "Passed", "Failed", "NotExecuted", "Error", "Timeout");

        var summary = TrxSummary.FromFile(path);

        Assert.Equal(new TrxSummary(Passed: 2, Failed: 3, Skipped: 1, Files: 1), summary);
    }

    [Fact]
    public void Closing_line_is_the_plain_form_ci_reads()
    {
        Assert.Equal("12 passed, 1 failed, 3 skipped", new TrxSummary(12, 1, 3, 2).ToString());
    }

    [Fact]
    public void Sums_every_trx_file_below_the_directory()
    {
        WriteTrx("a.trx", "Completed", "Passed", "NotExecuted");
        Directory.CreateDirectory(Path.Combine(directory, "nested"));
        WriteTrx(Path.Combine("nested", "b.trx"), "Failed", "Passed", "Passed", "Failed");
        File.WriteAllText(Path.Combine(directory, "not-a-result.txt"), "ignored");

        var summary = TrxSummary.FromDirectory(directory);

        Assert.Equal(new TrxSummary(Passed: 3, Failed: 1, Skipped: 1, Files: 2), summary);
    }

    [Fact]
    public void A_missing_directory_counts_nothing()
    {
        var summary = TrxSummary.FromDirectory(Path.Combine(directory, "absent"));

        Assert.Equal(new TrxSummary(0, 0, 0, 0), summary);
    }

    [Fact]
    public void An_aborted_run_without_failed_results_still_counts_as_a_failure()
    {
        var path = WriteTrx("aborted.trx", "Aborted", "Passed");

        var summary = TrxSummary.FromFile(path);

        Assert.Equal(1, summary.Failed);
        Assert.Equal(1, summary.Passed);
    }

    private string WriteTrx(string name, string runOutcome, params string[] outcomes)
    {
        var results = string.Join(
            "\n",
            outcomes.Select((outcome, index) =>
                $"""    <UnitTestResult testId="{Guid.NewGuid()}" testName="T{index}" outcome="{outcome}" />"""));
        var trx = $"""
            <?xml version="1.0" encoding="utf-8"?>
            <TestRun id="{Guid.NewGuid()}" name="run" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
              <Results>
            {results}
              </Results>
              <ResultSummary outcome="{runOutcome}">
                <Counters total="{outcomes.Length}" />
              </ResultSummary>
            </TestRun>
            """;
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, trx);
        return path;
    }
}
