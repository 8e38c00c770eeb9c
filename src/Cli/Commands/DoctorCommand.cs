using System.CommandLine;
using System.Text.Json;
using Microsandbox.Host;

namespace Microsandbox.Cli.Commands;

/// <summary>
/// <c>microsandbox doctor [--msb PATH] [--qemu-assets DIR] [--format text|json]</c>: per engine, what was found and,
/// for every "no", the reason and the fix. Exits 0 when at least one engine can run sandboxes here, 1 otherwise.
/// </summary>
public static class DoctorCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var msb = new Option<string?>("--msb") { Description = "Check this msb binary instead of the usual search (same as MSB_PATH)." };
        var assets = new Option<string?>("--qemu-assets") { Description = "QEMU asset directory to check (default ~/.microsandbox/qemu or MSB_QEMU_ASSETS)." };
        var format = new Option<string>("--format") { DefaultValueFactory = _ => "text", Description = "text or json." };
        format.AcceptOnlyFromAmong("text", "json");
        var doctor = new Command("doctor", "Check which engines can run sandboxes on this host, and how to fix the ones that cannot.") { msb, assets, format };
        doctor.SetAction(async (parse, ct) =>
        {
            var msbPath = parse.GetValue(msb);
            Func<string, string?> environment = msbPath is null
                ? Environment.GetEnvironmentVariable
                : name => name == "MSB_PATH" ? msbPath : Environment.GetEnvironmentVariable(name);
            var report = await Doctor.RunAsync(new DoctorOptions(environment, parse.GetValue(assets)), ct);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(format) == "json")
                await output.WriteLineAsync(ToJson(report));
            else
                await WriteTextAsync(output, report);
            return report.AnyEngineCanRun ? ExitCodes.Success : ExitCodes.Failure;
        });
        return doctor;
    }

    private static async Task WriteTextAsync(TextWriter output, DoctorReport report)
    {
        foreach (var engine in report.Engines)
        {
            await output.WriteLineAsync($"{engine.Engine}: {(engine.CanRun ? "can run" : "cannot run")}");
            foreach (var check in engine.Checks)
            {
                var mark = check.Ok ? "yes" : check.Required ? "NO " : "no ";
                await output.WriteLineAsync($"  [{mark}] {check.Name}: {check.Detail}");
                if (!check.Ok && check.Fix is not null) await output.WriteLineAsync($"        fix: {check.Fix}");
            }
        }
        await output.WriteLineAsync(report.AutoChoice);
    }

    private static string ToJson(DoctorReport report) => JsonSerializer.Serialize(new
    {
        can_run = report.AnyEngineCanRun,
        auto = report.AutoChoice,
        engines = report.Engines.Select(e => new
        {
            engine = e.Engine,
            can_run = e.CanRun,
            checks = e.Checks.Select(c => new { name = c.Name, ok = c.Ok, required = c.Required, detail = c.Detail, fix = c.Fix }),
        }),
    });
}
