using Microsandbox.Cli;

namespace Microsandbox.Tests.Cli;

/// <summary><c>microsandbox run --net / --no-net</c>: upstream's profile grammar, refused before anything boots.</summary>
public sealed class RunNetworkOptionTests
{
    [Theory]
    [InlineData(new[] { "--net", "bogus" }, "--net 'bogus': not a network profile (public, private, host, all, none)")]
    [InlineData(new[] { "--net", "all,public" }, "--net all,public: 'all' and 'none' cannot be combined with other profiles")]
    [InlineData(new[] { "--net", "public", "--net", "none" }, "--net public,none: 'all' and 'none' cannot be combined")]
    [InlineData(new[] { "--no-net", "--net", "host" }, "--no-net cannot be combined with --net or --net-rule")]
    [InlineData(new[] { "--net-rule", "allow@public:80" }, "`80` is a port, not a protocol; did you mean `public:tcp:80`?")]
    [InlineData(new[] { "--net-rule", "permit@public" }, "`permit` is not a recognized action. Expected `allow` or `deny`")]
    public void Bad_network_options_fail_with_the_rule(string[] options, string message)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = CliApp.Run(["run", .. options, "--", "true"], stdout, stderr);
        Assert.NotEqual(0, code);
        Assert.Contains(message, stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal("", stdout.ToString());
    }
}
