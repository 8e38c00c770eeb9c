using System.Text;
using Microsandbox.Orchestration;

namespace Microsandbox.Tests.Orchestration;

public sealed class RequestTests
{
    [Fact]
    public void Mount_parses_host_guest_and_read_only()
    {
        Assert.Equal(new MountRequest("/data", "/mnt", false), MountRequest.Parse("/data:/mnt"));
        Assert.Equal(new MountRequest("out", "/work", true), MountRequest.Parse("out:/work:ro"));
    }

    [Theory]
    [InlineData("/data")]
    [InlineData(":/mnt")]
    [InlineData("/data:")]
    [InlineData("/a:/b:rw")]
    [InlineData("/a:/b:ro:x")]
    public void Mount_rejects_other_shapes_naming_the_input(string text)
    {
        var e = Assert.Throws<InvalidConfigException>(() => MountRequest.Parse(text));
        Assert.Contains($"'{text}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("HOST:GUEST", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Port_parses_and_rejects()
    {
        Assert.Equal(new PortRequest(8080, 80), PortRequest.Parse("8080:80"));
        foreach (var bad in new[] { "80", "a:80", "80:0", "70000:80", "-1:80", "1:2:3" })
            Assert.Contains($"'{bad}'", Assert.Throws<InvalidConfigException>(() => PortRequest.Parse(bad)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sandbox_request_maps_every_setting_onto_the_spec()
    {
        var host = Directory.CreateTempSubdirectory("msbo-").FullName;
        var request = new SandboxRequest
        {
            Cpus = 2,
            MemoryMib = 384,
            Workdir = "/work",
            Environment = new Dictionary<string, string> { ["A"] = "1" },
            Mounts = [new MountRequest(host, "/work", ReadOnly: true)],
            Ports = [new PortRequest(18080, 80)],
        };
        var spec = request.ToBuilder("orch-map").Build().Spec;
        Assert.Equal("orch-map", spec.Name);
        Assert.True(spec.Lifecycle.Ephemeral);
        Assert.Equal((byte)2, spec.Resources.Cpus);
        Assert.Equal(384u, spec.Resources.MemoryMib);
        Assert.Equal("/work", spec.Runtime.Workdir);
        Assert.Contains(spec.Env, e => e.Key == "A" && e.Value == "1");
        var bind = Assert.IsType<Microsandbox.Spec.VolumeMount.Bind>(Assert.Single(spec.Mounts));
        Assert.Equal("/work", bind.Guest);
        Assert.Equal(host, bind.Host);
        Assert.True(bind.Options.Readonly);
        Assert.True(request.UsesBuiltinImage);
        Assert.NotEqual(SandboxRequest.GenerateName(), SandboxRequest.GenerateName());
    }

    [Fact]
    public void Test_run_defaults_to_dotnet_test_in_the_guest_directory()
    {
        var request = new TestRunRequest("/out") { TestTarget = "Tests.dll" };
        var command = request.EffectiveCommand();
        Assert.Equal("dotnet", command.Program);
        Assert.Equal(["test", "/work/Tests.dll"], command.Arguments);
        Assert.Equal("/work", command.WorkingDirectory);

        var custom = new TestRunRequest("/out") { GuestDirectory = "/t", Command = CommandRequest.Shell("./run.sh") }.EffectiveCommand();
        Assert.Equal("/bin/sh", custom.Program);
        Assert.Equal(["-c", "./run.sh"], custom.Arguments);
        Assert.Equal("/t", custom.WorkingDirectory);
    }

    [Fact]
    public void Command_prints_quoted_arguments()
    {
        Assert.Equal("echo \"a b\" c \"\"", (new CommandRequest("echo") { Arguments = ["a b", "c", ""] }).ToString());
    }

    [Fact]
    public void Line_splitter_joins_split_utf8_and_strips_terminators()
    {
        var lines = new List<OutputLine>();
        var splitter = new LineSplitter(OutputStream.Stderr, OutputSink.FromCallback(lines.Add));
        var bytes = Encoding.UTF8.GetBytes("héllo\r\nwörld\nlast");
        // Feed one byte at a time so every multi-byte character is split across chunks.
        foreach (var b in bytes) splitter.Write([b]);
        Assert.Equal(["héllo", "wörld"], lines.Select(l => l.Text));
        splitter.Flush();
        Assert.Equal(["héllo", "wörld", "last"], lines.Select(l => l.Text));
        Assert.All(lines, l => Assert.Equal(OutputStream.Stderr, l.Stream));
        Assert.Equal("héllo\r\nwörld\nlast", splitter.Text);
    }

    [Fact]
    public void Logger_and_progress_sinks_forward_lines()
    {
        var reported = new List<OutputLine>();
        var progress = OutputSink.FromProgress(new SyncProgress(reported.Add));
        progress.OnLine(new OutputLine(OutputStream.Stdout, "x"));
        Assert.Equal([new OutputLine(OutputStream.Stdout, "x")], reported);

        var logged = new List<(Microsoft.Extensions.Logging.LogLevel, string)>();
        var sink = OutputSink.FromLogger(new ListLogger(logged));
        sink.OnLine(new OutputLine(OutputStream.Stdout, "out {not a template}"));
        sink.OnLine(new OutputLine(OutputStream.Stderr, "err"));
        Assert.Equal([(Microsoft.Extensions.Logging.LogLevel.Information, "out {not a template}"), (Microsoft.Extensions.Logging.LogLevel.Warning, "err")], logged);
    }

    [Fact]
    public async Task Prepare_pulls_oci_references_and_rejects_missing_paths_clearly()
    {
        var home = Directory.CreateTempSubdirectory("msbo-").FullName;
        var orchestrator = new SandboxOrchestrator(new SandboxOptions { Engine = Engines.EngineKind.Krun, HomeDirectory = home });
        // A registry that refuses connections: the pull is attempted and fails naming the image.
        var unreachable = "127.0.0.1:9/nothing/here:1";
        var oci = await Assert.ThrowsAsync<ImagePullException>(() => orchestrator.PrepareImagesAsync([unreachable], TestContext.Current.CancellationToken));
        Assert.Contains("127.0.0.1:9", oci.Message, StringComparison.Ordinal);
        var missing = await Assert.ThrowsAsync<MicrosandboxException>(() => orchestrator.PrepareImagesAsync(["/nonexistent/root.raw"], TestContext.Current.CancellationToken));
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        var dir = Directory.CreateTempSubdirectory("msbo-").FullName;
        var prepared = await orchestrator.PrepareImagesAsync([dir, dir], TestContext.Current.CancellationToken);
        Assert.Equal(dir, Assert.Single(prepared).Location);
    }

    private sealed class SyncProgress(Action<OutputLine> report) : IProgress<OutputLine>
    {
        public void Report(OutputLine value) => report(value);
    }

    private sealed class ListLogger(List<(Microsoft.Extensions.Logging.LogLevel, string)> entries) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Add((logLevel, formatter(state, exception)));
    }
}
