using System.Security.Cryptography;
using System.Text;
using Microsandbox.Agent;

namespace Microsandbox.Tests.Vm;

[Collection(SharedSandboxCollection.Name)]
public sealed class ExecTests(SharedSandboxFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Echo_returns_stdout_and_exit_code_zero()
    {
        var r = await fixture.Sandbox.ExecAsync("echo", ["hello", "world"], Ct);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("hello world\n", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(42)]
    public async Task Non_zero_exit_codes_come_back(int code)
    {
        var r = await fixture.Sandbox.ExecAsync("sh", ["-c", $"echo oops >&2; exit {code}"], Ct);
        Assert.Equal(code, r.ExitCode);
        Assert.Equal("oops\n", r.Stderr);
    }

    [Fact]
    public async Task Arguments_are_passed_verbatim_without_a_shell()
    {
        var tricky = "a b; echo injected $(id) 'q' \"d\"";
        var r = await fixture.Sandbox.ExecAsync("printf", ["%s|", tricky, "*"], Ct);
        Assert.Equal(tricky + "|*|", r.Stdout);
    }

    [Fact]
    public async Task Spec_env_hostname_and_workdir_apply()
    {
        var r = await fixture.Sandbox.ShellAsync("echo \"$GREETING\"; hostname; pwd", Ct);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("hello from the spec\nvm-shared\n/tmp\n", r.Stdout);
    }

    [Fact]
    public async Task Per_command_env_cwd_and_user_apply()
    {
        var cmd = new ExecCommand("sh") { Arguments = ["-c", "echo $ONLY_HERE; pwd; id -u"] }
            .WithEnvironment("ONLY_HERE", "yes").WithWorkingDirectory("/").WithUser("nobody");
        var r = await fixture.Sandbox.ExecAsync(cmd, Ct);
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.Split('\n');
        Assert.Equal("yes", lines[0]);
        Assert.Equal("/", lines[1]);
        Assert.NotEqual("0", lines[2]);
    }

    [Fact]
    public async Task Stdin_is_piped_to_the_command()
    {
        var input = Encoding.UTF8.GetBytes("line one\nline two\n");
        var r = await fixture.Sandbox.ExecAsync(new ExecCommand("wc") { Arguments = ["-l"] }.WithStdin(input), Ct);
        Assert.Equal("2", r.Stdout.Trim());
    }

    [Fact]
    public async Task Ten_mebibytes_of_stdout_arrive_byte_exact()
    {
        // A deterministic 10 MiB stream: the guest generates it, the host checks its hash against the guest's.
        var r = await fixture.Sandbox.ExecAsync("sh", ["-c", "head -c 10485760 /dev/urandom > /tmp/big.bin && cat /tmp/big.bin"], Ct);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(10 * 1024 * 1024, r.StdoutBytes.Length);
        var guestHash = (await fixture.Sandbox.ExecAsync("sha256sum", ["/tmp/big.bin"], Ct)).Stdout.Split(' ')[0];
        Assert.Equal(guestHash, Convert.ToHexStringLower(SHA256.HashData(r.StdoutBytes.Span)));
        await fixture.Sandbox.Fs.RemoveAsync("/tmp/big.bin", cancellationToken: Ct);
    }

    [Fact]
    public async Task A_missing_command_fails_clearly()
    {
        var e = await Assert.ThrowsAsync<ExecFailedException>(() => fixture.Sandbox.ExecAsync("no-such-program-xyz", null, Ct));
        Assert.Contains("no-such-program-xyz", e.Message);
    }

    [Fact]
    public async Task Streaming_events_arrive_in_order()
    {
        var events = new List<ExecEvent>();
        await foreach (var e in fixture.Sandbox.ExecEventsAsync(new ExecCommand("sh") { Arguments = ["-c", "echo a; echo b >&2; exit 5"] }, Ct))
            events.Add(e);
        Assert.IsType<ExecEvent.Started>(events[0]);
        Assert.Equal(5, Assert.IsType<ExecEvent.Exited>(events[^1]).Code);
        Assert.Contains(events, e => e is ExecEvent.Stdout o && Encoding.UTF8.GetString(o.Data.Span) == "a\n");
        Assert.Contains(events, e => e is ExecEvent.Stderr o && Encoding.UTF8.GetString(o.Data.Span) == "b\n");
    }

    [Fact]
    public async Task Interactive_session_takes_stdin_and_signals()
    {
        await using var session = await fixture.Sandbox.StartAsync(new ExecCommand("cat"), Ct);
        await session.WriteStdinAsync(Encoding.UTF8.GetBytes("ping\n"), Ct);
        var seen = new StringBuilder();
        await foreach (var e in session.ReadEventsAsync(Ct))
        {
            if (e is ExecEvent.Stdout o)
            {
                seen.Append(Encoding.UTF8.GetString(o.Data.Span));
                if (seen.ToString() == "ping\n") await session.SignalAsync(15, Ct);
            }
            if (e is ExecEvent.Exited x)
            {
                Assert.NotEqual(0, x.Code);
                break;
            }
        }
        Assert.Equal("ping\n", seen.ToString());
    }

    [Fact]
    public async Task Ping_answers() => await fixture.Sandbox.PingAsync(Ct);
}
