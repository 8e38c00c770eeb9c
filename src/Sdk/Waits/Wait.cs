using System.Text.RegularExpressions;
using Microsandbox.Spec;

namespace Microsandbox;

/// <summary>
/// The readiness waits, as Testcontainers names them: add them with <see cref="SandboxBuilder.WaitFor"/>; create
/// returns once all hold, in the order added.
/// </summary>
public static class Wait
{
    /// <summary>Something listens on <paramref name="guestPort"/> inside the guest (read from the guest kernel's socket table).</summary>
    public static WaitStrategy ForPort(int guestPort, PortProtocol protocol = PortProtocol.Tcp)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(guestPort, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(guestPort, 65535);
        return new PortWait(guestPort, protocol);
    }

    /// <summary>The main process's output has matched <paramref name="pattern"/> at least <paramref name="times"/> times.</summary>
    /// <exception cref="ArgumentException">The pattern is not a valid regular expression.</exception>
    public static WaitStrategy ForLogMessage(string pattern, int times = 1)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentOutOfRangeException.ThrowIfLessThan(times, 1);
        return new LogMessageWait(new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), times);
    }

    /// <summary><paramref name="program"/> with <paramref name="arguments"/>, run in the guest, exits with code 0.</summary>
    public static WaitStrategy ForCommand(string program, params IEnumerable<string> arguments)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        ArgumentNullException.ThrowIfNull(arguments);
        return new CommandWait([program, .. arguments]);
    }

    /// <summary>
    /// An HTTP GET of <paramref name="path"/> on the published <paramref name="guestPort"/>, from the host as a client
    /// would, answers <paramref name="status"/>.
    /// </summary>
    public static WaitStrategy ForHttp(string path, int guestPort, int status = 200)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!path.StartsWith('/')) throw new ArgumentException($"path '{path}' must start with '/'", nameof(path));
        ArgumentOutOfRangeException.ThrowIfLessThan(guestPort, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(guestPort, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 599);
        return new HttpWait(path, guestPort, status);
    }

    /// <summary>
    /// The main process's health check (the image's <c>HEALTHCHECK</c>, or the builder's) reports healthy; fails as soon
    /// as it reports unhealthy. The state stays visible as <see cref="Sandbox.Health"/>.
    /// </summary>
    public static WaitStrategy ForHealthcheck() => new HealthcheckWait();
}
